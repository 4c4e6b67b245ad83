"""Simulated devices (loudspeaker clusters, e-boards, receivers) speaking Kẻng's MQTT contract
(``openapi/asyncapi.yaml``): many in one asyncio process, for tests, benchmarks and
``python -m mobile_client_py device``."""

from mobile_client_py.device.clock import ManualClock, RealClock, SimClock
from mobile_client_py.device.fleet import Fleet, provision
from mobile_client_py.device.sim import Behaviour, Identity, SimulatedDevice

__all__ = [
    "Behaviour",
    "Fleet",
    "Identity",
    "ManualClock",
    "RealClock",
    "SimClock",
    "SimulatedDevice",
    "provision",
]
