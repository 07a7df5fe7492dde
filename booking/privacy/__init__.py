"""Personal data: who read what, the right of access, erasure and retention."""
