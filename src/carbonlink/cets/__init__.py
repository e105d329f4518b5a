"""China's national emissions trading system (全国碳排放权交易市场) for steel, cement and aluminium.

Pure domain: the compliance calendar, the plausibility checks a verifier runs on the monthly
parameters, and the intensity-based allocation position. Plain data in, plain data out; the
monthly deposit pack (`carbonlink.cets.deposit`) is the one part that writes files and the ledger.
"""
