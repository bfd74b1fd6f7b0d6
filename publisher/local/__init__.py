"""The embedded local stack: AWS emulator, stream poller and CDN stand-in on one machine."""
