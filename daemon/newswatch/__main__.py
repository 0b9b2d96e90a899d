from newswatch.cli import entry

# The guard matters: parse workers started through the forkserver import the
# parent's __main__ module, and must not run the command line again.
if __name__ == "__main__":
    raise SystemExit(entry())
