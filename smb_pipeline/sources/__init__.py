"""The input edge: reading firewall-log archives (files, schema groups, input errors)."""
