from newswatch.cli import entry

# The guard matters: spawned parse workers import the
# parent's __main__ module, and must not run the command line again.
if __name__ == "__main__":
    raise SystemExit(entry())
