"""The `dockerforge` command-line client: talks to the REST API; imports no Django."""
