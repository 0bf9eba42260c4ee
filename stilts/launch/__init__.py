"""Running an experiment's jobs elsewhere: on a SLURM cluster, or N at a time on this machine.

`stilts.experiment.jobs` turns planned chains into a graph of jobs, each a `stilts run RECIPE
--job ID` command on one shared store; here that graph is handed to submitit
(`stilts.launch.backends`) by a submitter that can be stopped and rerun at any time
(`stilts.launch.submitter`): what the store holds complete is never submitted again, what is
queued or running is left alone, and a failed job is retried. Submitted attempts and their
logs live in the launch's folder under the store (`stilts.launch.folder`), which
`stilts grid … --status` reads (`stilts.launch.status`).
"""
