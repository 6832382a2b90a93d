"""sitegen: reads Jupytext posts, executes them, caches the runs and renders the catdog blog."""
