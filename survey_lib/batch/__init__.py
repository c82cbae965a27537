"""The batch runner: every notebook for every scope, in parallel, incremental, with an HTML site."""
