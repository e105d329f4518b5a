"""Production batches (heat → slab → coil), their identifiers, resolvers and passports.

A batch is imported from production records (`records`), kept with the batches and supplier
footprints it was made from (`store`), named by a GS1 Digital Link URI and a Handle
(`identifiers`), and described by a passport recorded in the ledger (`passport`).
"""
