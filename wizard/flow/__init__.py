"""The flow language: model, loader, conditions and field types. Pure Python: no Flask, no SQL."""
