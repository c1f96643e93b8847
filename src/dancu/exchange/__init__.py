"""The exchange API that connected systems call: verify, retrieve, batch verify and verify jobs."""
