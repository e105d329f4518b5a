"""The EU importer's side of CBAM's definitive period: customs lines, declaration, certificates.

``lines`` reads customs declaration lines (CSV, XLSX) and quarantines bad rows; ``declaration``
matches each line to its supplier's communication or to a default value and computes the annual
declaration; ``qreport`` writes the transitional quarterly reports; ``store`` keeps lines,
communications and prices per organization. Nothing here imports the web or CLI layers.
"""
