"""The `dianshu` command: the composition root, which may import every package."""
