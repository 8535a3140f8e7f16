"""The pure domain core: no Django, plain immutable inputs, results that carry their explanation."""
