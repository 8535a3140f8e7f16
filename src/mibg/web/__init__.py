"""The clinical web application (Django): thin views over the pure core, with roles, audit and locking."""
