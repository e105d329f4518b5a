"""The demo enterprise, built only through carbonlink's public functions.

A Chinese steel group (the Tangshan works and a Jiangsu coating site) taken from its meters to
its reports, its supply chain and its dashboard: `run_demo` is what ``carbonlink demo`` runs.

- `run`: the steps of the demo and `run_demo`;
- `plant`: the plant's year of 15-minute electricity readings, imported like any plant file;
- `cbam`: the CBAM communications of both installations;
- `monitoring`: monitoring plan, target, ETS position and anomalies;
- `service`: the demo organization, its users and saved results in the service's store;
- `supply_chain`: products, BOMs and the two suppliers answering over PACT;
- `portal`: the ferroalloy supplier answering through the portal's web pages.
"""

from __future__ import annotations

from carbonlink.demo.run import demo_inventory_text, run_demo

__all__ = ["demo_inventory_text", "run_demo"]
