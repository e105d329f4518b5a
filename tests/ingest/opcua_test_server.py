"""An asyncua OPC UA server for tests, run as its own process so a test can kill it.

    python opcua_test_server.py PORT [--history]

It serves ns=2;s=EM07.Energy (a Double), with --history keeping its values (in memory) for
HistoryRead, prints "ready" once it listens, then reads commands
from stdin, one per line: "write VALUE EPOCH_MS" writes the value with that SourceTimestamp
and prints "ok".
"""

from __future__ import annotations

import asyncio
import logging
import sys
from datetime import UTC, datetime

from asyncua import Server, ua


async def main(port: int, history: bool) -> None:
    logging.getLogger("asyncua").setLevel(logging.ERROR)
    server = Server()
    await server.init()
    server.set_endpoint(f"opc.tcp://127.0.0.1:{port}/carbonlink-test/")
    idx = await server.register_namespace("urn:carbonlink:test")
    meters = await server.nodes.objects.add_object(idx, "Meters")
    energy = await meters.add_variable(ua.NodeId("EM07.Energy", idx), "Energy", 0.0)
    await server.start()
    if history:
        await server.historize_node_data_change(energy, period=None, count=1000)
    print("ready", flush=True)
    loop = asyncio.get_running_loop()
    try:
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if not line:
                break
            command, value, stamp = line.split()
            assert command == "write"
            source = datetime.fromtimestamp(int(stamp) / 1000, UTC)
            number = ua.Variant(float(value), ua.VariantType.Double)
            await energy.write_value(ua.DataValue(number, SourceTimestamp=source))
            print("ok", flush=True)
    finally:
        await server.stop()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), "--history" in sys.argv[2:]))
