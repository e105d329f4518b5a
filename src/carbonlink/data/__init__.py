"""Reference data shipped as files (factor tables, GWP sets, grid factors), each row cited."""
