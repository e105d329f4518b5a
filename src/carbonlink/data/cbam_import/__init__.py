"""Reference data of the CBAM definitive period for importers, each row with its source."""
