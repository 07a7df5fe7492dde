"""The waiting list: a freed slot offered by SMS to the first person waiting."""
