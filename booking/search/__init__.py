"""The public search: places of care near a commune, their next free slots, unmet demand."""
