"""Posts: gathered from the organisation's feeds, or entered by hand."""
