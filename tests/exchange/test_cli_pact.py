"""`carbonlink pact …`: certificate, partners, publish, pull over HTTPS, request."""

from __future__ import annotations

import json
import re
import ssl
from pathlib import Path

from exchange_helpers import HostFactory, footprint_document
from sqlalchemy import Engine
from typer.testing import CliRunner

from carbonlink.cli import app
from carbonlink.exchange.repository import ExchangeRepository, FootprintFilter
from carbonlink.settings import Settings
from carbonlink.store import create_store_engine

SUPPLIER = "urn:pact:coke.example.com:company-id:7"


def test_pact_commands_end_to_end(
    tmp_path: Path,
    second_engine: Engine,
    pact_host: HostFactory,
    tls_context: ssl.SSLContext,
    dev_cert: tuple[Path, Path],
) -> None:
    runner = CliRunner()
    database = tmp_path / "lead.db"
    env = {"CARBONLINK_DATABASE_URL": f"sqlite:///{database}"}

    made = runner.invoke(app, ["pact", "dev-cert", str(tmp_path / "tls")], env=env)
    assert made.exit_code == 0, made.output
    assert (tmp_path / "tls" / "pact-dev-cert.pem").is_file()

    # The supplier's host, with three footprints; two are the lead's to see.
    supplier, supplier_repo, _ = pact_host(second_engine)
    supplier_repo.add_partner("lead", "lead-secret-0123456789", name="L", organization="L")
    supplier_repo.grant("lead", companies=[SUPPLIER])
    for n in range(3):
        company = SUPPLIER if n < 2 else "urn:pact:coke.example.com:company-id:8"
        supplier_repo.publish(footprint_document(n, company=company))

    pulled = runner.invoke(
        app,
        [
            "pact", "pull", "--host", supplier.url, "--client-id", "lead",
            "--client-secret", "lead-secret-0123456789", "--ca-cert", str(dev_cert[0]),
            "--limit", "1",
        ],
        env=env,
    )  # fmt: skip
    assert pulled.exit_code == 0, pulled.output
    assert "2 footprint(s) pulled" in pulled.output
    # The CLI stores client secrets under the workspace's secret key (the default here).
    lead = ExchangeRepository(
        create_store_engine(f"sqlite:///{database}"), secret_key=Settings().key_bytes
    )
    assert [row["source"] for row in lead.received()] == [supplier.url] * 2

    added = runner.invoke(
        app,
        [
            "pact", "partners", "add", "coke", "--name", "Coke Co", "--organization", "Coke Co",
            "--host", supplier.url, "--grant-company", "urn:pact:steel.example.com:company-id:1",
        ],
        env=env,
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    secret = re.search(r"client secret\s+(\S+)", added.output)
    assert secret and lead.authenticate("coke", secret.group(1)) is not None

    footprint_file = tmp_path / "pcf.json"
    footprint_file.write_text(json.dumps({"data": [footprint_document(5), footprint_document(6)]}))
    published = runner.invoke(app, ["pact", "publish", str(footprint_file)], env=env)
    assert published.exit_code == 0, published.output
    assert "2 footprint(s) published" in published.output
    partner = lead.partner("coke")
    assert partner is not None
    assert len(lead.visible(partner, FootprintFilter())) == 2

    asked = runner.invoke(
        app,
        [
            "pact", "request", "--partner", "coke", "--product-id", "urn:x:1",
            "--remote-client-id", "lead", "--remote-client-secret", "lead-secret-0123456789",
            "--ca-cert", str(dev_cert[0]), "--source", "https://lead.example",
        ],
        env=env,
    )  # fmt: skip
    assert asked.exit_code == 0, asked.output
    assert "delivery: delivered after 1 attempt(s)" in asked.output
    assert [row["partner"] for row in supplier_repo.events(direction="received")] == ["lead"]

    bad = runner.invoke(app, ["pact", "publish", str(tmp_path / "missing.json")], env=env)
    assert bad.exit_code != 0


def test_credentials_file_for_pact_serve(tmp_path: Path) -> None:
    import pytest

    from carbonlink.commands.pact import load_credentials
    from carbonlink.errors import InputError

    good = tmp_path / "creds.json"
    good.write_text(json.dumps({"https://coke.example/": ["lead", "s3cret"]}))
    assert load_credentials(good) == {"https://coke.example": ("lead", "s3cret")}
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(["https://coke.example"]))
    with pytest.raises(InputError):
        load_credentials(bad)
