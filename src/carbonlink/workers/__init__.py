"""Stateless worker processes that consume carbonlink's durable logs (``carbonlink worker …``)."""
