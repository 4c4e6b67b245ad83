"""The broadcast log ("nhật ký"): planned versus played, from devices' proof of play and officials'
manual entries."""
