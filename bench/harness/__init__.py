"""The benchmark harness (standard library only, so the smoke mode needs
nothing but python3, wrk and the ferrostack binary)."""
