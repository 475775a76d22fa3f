from __future__ import annotations

from django.db import migrations

# the manual's twelve incoming ports (M:2463-2496), open; network.services.BUILTIN_PORTS
PORTS = (
    (22, "tcp", "SSH Access"),
    (80, "tcp", "HTTP Access"),
    (81, "tcp", "Custom Website"),
    (443, "tcp", "HTTPS Access"),
    (502, "tcp", "MODBUS Server (for Modbus/TCP requests)"),
    (1603, "tcp", "Frame data for load management"),
    (1883, "tcp", "MQTT"),
    (2106, "tcp", "OCPP Remote"),
    (5000, "tcp", "Web Server"),
    (5353, "udp", "mDNS (multicast DNS)"),
    (5555, "tcp", "Jupicore accesses"),
    (9502, "tcp", "MODBUS Client Configuration"),
)


def create(apps, schema_editor):
    PortRule = apps.get_model("network", "PortRule")
    for port, protocol, purpose in PORTS:
        PortRule.objects.get_or_create(
            port=port, protocol=protocol, direction="in", defaults={"builtin": True, "purpose": purpose, "open": True}
        )


class Migration(migrations.Migration):
    dependencies = [("network", "0001_initial")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
