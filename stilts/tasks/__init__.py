"""What a task is and where tasks come from.

`task` is the plugin contract (`Task`, `Hyperparameters`), `data` reads pinned hub sources or
local mirrors of them, `heads` are the head kinds a task declares, `registry` discovers
installed tasks through the ``stilts.tasks`` entry point group, `declarative` builds tasks
declared as data in a recipe, `formats` holds what the standard formats' built-in and declared
tasks share, and `plugins` are the built-in tasks, registered the same way third-party ones
are; plugins import the core, never the other way round. Nothing here imports torch at module
level: `stilts tasks` loads every plugin to list it.
"""
