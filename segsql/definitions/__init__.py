"""Reading the project's files: YAML with line numbers, profiles, project discovery."""
