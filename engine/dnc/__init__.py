"""The do-not-call lists: reading a file of numbers to put on one."""
