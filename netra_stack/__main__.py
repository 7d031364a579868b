from netra_stack.cli.main import main

main(prog_name="netra-stack")
