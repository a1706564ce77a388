// Package loaders is the engine that brings legacy files into a dschema
// database, and the contract every loader keeps. The loaders themselves
// live one package per source (internal/loaders/datadecide, wandb,
// showntell, qa; finetune holds the derivation two of them share), each
// registering itself in init; internal/loaders/all imports them all.
//
// # What the engine does
//
// Engine.Load refuses a database that is not at the newest schema version,
// hashes the file (with a Bundler's companions, or a DirLoader's folder),
// and returns at once when the same content of the same source is already
// loaded (Summary.Unchanged). A source without companions whose size no
// current load of its kind has cannot be unchanged or loaded elsewhere:
// its hash is read beside the load, in a goroutine of its own, and
// Source.SHA256 is "" while the loader runs. Otherwise it opens one
// transaction, removes the rows an older version of the source wrote
// (every table with a load_id column, found by that column), calls the
// loader's Load, records the load in dschema_loads (with the hash), and
// commits. Any error, or a cancelled
// context before COMMIT, rolls everything back: a failed load writes
// nothing. The engine also sets and restores the memory limit it is given
// (Options.MemoryLimit; dschema load passes DefaultMemoryLimit, the one the
// loader declares through MemoryLimiter or FallbackMemoryLimit, when the
// user names none) and the threads a ThreadLimiter declares, refuses options the loader does not read
// (OptionReader, CheckOptions), and turns DuckDB's out-of-memory errors
// into a hint.
//
// # What a loader may and must do
//
// A loader implements Loader: Kind (the name on the command line), Short
// (one line for load --help) and Load, and Recognizer (below). In Load it:
//
//   - works only through l.Conn, which is inside the engine's transaction:
//     it never issues BEGIN, COMMIT, ROLLBACK, SET, ATTACH or DETACH, and
//     never opens another connection to write; the one setting it may
//     change, for a statement, is DuckDB's threads, through SetThreads
//     (the engine, and InRollback for verify, restore it after the
//     transaction ends);
//   - writes every row with load_id = l.ID, into tables of the schema, and
//     reports in Report.Rows the rows it wrote per table (the engine's
//     replace and verify find a load's rows by load_id alone);
//   - calls l.Stage before each step the user should see (progress is
//     reported by stage), and l.ReadProgress when it streams the file;
//   - passes ctx to every query, so that an interrupt stops it (Go loops
//     that decode or append do not all look at ctx; the engine checks it
//     before COMMIT, so an interrupted load writes nothing either way);
//   - returns a problem with the input as a *FileError naming the file, the
//     place (row, column, key, member, line, byte offset; MemberPlace builds
//     an archive's) and the problem, wrapping the cause in Err; other errors
//     are the database's or the machine's;
//   - reports what it leaves out in Report.Skipped and what it keeps aside
//     (an overflow column, a text copy) in Report.Kept, with a count and a
//     reason: nothing is dropped silently; a loader that keeps things aside
//     should refuse them instead under l.Strict (datadecide, wandb-runs and
//     showntell do; wandb-history and qa-outputs keep aside either way);
//   - leaves rows another source's load already holds as they are: it
//     skips them and reports them through FirstSourceKeeps (the first
//     source to load a row keeps it), or refuses the file naming them
//     (datadecide and the matched frame, whose keys must not overlap);
//   - drops the temp tables it creates, named with the prefix dschema_ or
//     _dschema_, before it returns, on success and on error;
//   - stores a value exactly as the source holds it or refuses it, naming
//     it: never rounded, clamped, re-escaped or made NULL quietly.
//
// # What a loader may add
//
//   - Verifier: Verify compares a file with the database value for value
//     and stores nothing (dschema verify). The verify kit here (StartVerify,
//     SetAside, InRollback, Relation and CompareRelation) does the common
//     part: the loader writes the file's rows as a load would, inside a
//     transaction that is rolled back, and compares them with the
//     database's. Verify must see every table the load wrote.
//   - MemoryLimiter: the memory limit its loads run under by default.
//   - ThreadLimiter: the DuckDB threads its loads run on, set and restored
//     by the engine (datadecide's one thread: each thread of an insert
//     into its 1,887 columns buffers a block of every column).
//   - OptionReader: the options beyond the common ones it reads.
//   - Bundler (a file with companion files) and DirLoader (a folder as one
//     source).
//   - Dependent: the kinds whose loads come before its own in a plan.
//
// # Recognising files: a load without a kind
//
// Every registered loader, and every check, implements Recognizer, and
// names the kinds its loads come after through Dependent. Engine.Plan
// walks the folders and files it is given; for each file the engine reads
// the first HeadSize bytes once and sniffs the format by magic bytes
// (Sniff: parquet, gzip, tar, pickle protocol 2-5, JSON); every
// recognizer then looks at the format and, when it is one it reads, runs
// the layout detection its Load runs (never a second copy of it), reading
// no more than it needs (the parquet schema through Probe.Columns, the
// first line, a tarball's first members; a pickle is decoded whole, as it
// has no header) and writing nothing. It returns its layout, or "" (with
// Probe.Decline saying why, when that helps). A file two kinds claim is
// refused in the plan, naming both; loadertest.Conformance checks each
// sample file is recognised as its kind and by no other. A DirLoader's
// recognizer may claim a folder (then the walk does not descend into
// it); a Bundler's companions are planned as part of their main file.
// Hidden files and folders and symbolic links found in a walk are not
// read, and get a plan line saying so; nothing found is left out of the
// plan. KindOrder orders the kinds topologically by After, ties by kind
// name (a cycle is an error); a plan orders files by kind, then path.
// Engine.Run loads each file in its own Engine.Load transaction and runs
// each check's Verify, goes on after a failure, and names the failed
// files of the kinds a file comes after.
//
// RegisterVerifier adds a check of files that are not loaded (the DataDecide
// seed aggregates). Register and RegisterVerifier panic on an empty or
// duplicate kind.
//
// # Holding a loader to it
//
// internal/loaders/loadertest.Conformance checks a kind against this
// contract on sample files: failures injected at every stage write
// nothing, the load writes only what it reports and every row carries its
// load_id, a reload writes nothing, and verify finds 0 differences and
// catches a one-cell change in each table the load wrote. Every loader
// package runs it (TestConformance), and a test in internal/loaders/all
// checks that none is missing. docs/development.md walks through adding a
// loader.
package loaders
