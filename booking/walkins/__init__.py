"""Walk-in visits of permanences: counted without a name, so that drop-in care shows in the figures."""
