//! What programs do with their arguments: wrappers to see through, code to
//! recurse into, and the files, hosts and processes they touch.

use super::words::{Val, clip};
use super::{Env, Output, Shell, Stdin};
use crate::ops::{Exactness, Op, PathRef, ProgramKind};
use crate::{Lang, paths};

/// Directories whose programs are the system's own: `/bin/rm` is `rm`.
const TRUSTED_DIRS: &[&str] = &[
    "/bin",
    "/usr/bin",
    "/sbin",
    "/usr/sbin",
    "/usr/local/bin",
    "/usr/local/sbin",
];

/// Builtins that only change the shell's own state or print: no operation.
const QUIET_BUILTINS: &[&str] = &[
    ":", "true", "false", "set", "shift", "return", "exit", "break", "continue", "unset", "wait",
    "getopts", "let", "shopt", "readonly", "pwd", "test", "[", "jobs", "hash", "umask", "times",
    "caller", "dirs", "disown", "suspend", "logout", "help",
];

/// Programs whose arguments are data, never paths or code.
const DATA_ONLY: &[&str] = &[
    "echo",
    "printf",
    "seq",
    "expr",
    "basename",
    "dirname",
    "uname",
    "whoami",
    "id",
    "nproc",
    "arch",
    "uptime",
    "free",
    "df",
    "ps",
    "pgrep",
    "printenv",
    "sleep",
    "which",
    "type",
    "locale",
    "tty",
    "groups",
    "lscpu",
    "lsblk",
    "lsusb",
    "lspci",
    "cal",
    "factor",
    "numfmt",
    "users",
    "who",
    "w",
    "getconf",
    "tput",
    "clear",
    "date",
    "hostname",
    "bc",
    "dc",
    "yes",
    "beep",
    "ulimit",
    "env",
    "true",
    "false",
    "logname",
    "lsmem",
    "vmstat",
    "iostat",
    "nice",
    "top",
    "htop",
    "whereis",
    "apropos",
    "man",
    "info",
    "tldr",
    "sensors",
    "lsof",
    "pstree",
    "jot",
    "rev",
    "sum",
    "banner",
    "figlet",
    "cowsay",
    "xrandr",
    "notify-send",
    "pidof",
    "lsmod",
    "dmesg",
    "mpstat",
    "sar",
    "netstat",
    "ss",
    "ip",
    "ifconfig",
    "route",
    "arp",
    "getent",
    "timedatectl",
    "hostnamectl",
    "localectl",
    "last",
    "lastlog",
    "finger",
    "pinky",
    "stty",
    "reset",
    "tabs",
];

/// Programs that only read the files named in their operands.
const READERS: &[&str] = &[
    "cat",
    "tac",
    "less",
    "more",
    "head",
    "tail",
    "wc",
    "sort",
    "uniq",
    "cut",
    "paste",
    "nl",
    "fold",
    "fmt",
    "od",
    "hexdump",
    "strings",
    "file",
    "stat",
    "ls",
    "tree",
    "du",
    "md5sum",
    "sha1sum",
    "sha224sum",
    "sha256sum",
    "sha384sum",
    "sha512sum",
    "b2sum",
    "cksum",
    "base32",
    "base64",
    "diff",
    "cmp",
    "comm",
    "join",
    "readlink",
    "realpath",
    "column",
    "expand",
    "unexpand",
    "tr",
    "shuf",
    "bat",
    "zcat",
    "bzcat",
    "xzcat",
    "zless",
    "zmore",
    "zgrep",
    "look",
    "iconv",
    "lsattr",
    "getfacl",
    "namei",
    "pr",
    "ptx",
    "tsort",
    "vdir",
    "dir",
    "wdiff",
    "colordiff",
    "diff3",
    "sdiff",
    "cat-file",
    "exa",
    "eza",
    "lsd",
    "fd",
    "fdfind",
    "locate",
    "zdiff",
    "xmllint",
    "tidy",
    "identify",
    "exiftool",
    "pdfinfo",
    "pdftotext",
    "ldd",
    "nm",
    "objdump",
    "readelf",
    "size",
    "sha",
    "md5",
    "csvlook",
    "csvcut",
    "csvstat",
    "hd",
];

/// Readers that report about a file (hash, size, type, name), not its content.
const METADATA_READERS: &[&str] = &[
    "md5sum",
    "sha1sum",
    "sha224sum",
    "sha256sum",
    "sha384sum",
    "sha512sum",
    "b2sum",
    "cksum",
    "sum",
    "wc",
    "du",
    "stat",
    "file",
    "readlink",
    "realpath",
    "ls",
    "tree",
    "lsattr",
    "namei",
    "exa",
    "eza",
    "lsd",
    "vdir",
    "dir",
];

/// Search tools whose first operand is a pattern, then files.
const PATTERN_FIRST: &[&str] = &[
    "grep", "egrep", "fgrep", "rg", "ag", "ack", "jq", "yq", "gojq", "jaq", "pcregrep", "git-grep",
];

/// Shells that run code given with `-c`, a script file or stdin.
const SHELLS: &[&str] = &[
    "sh",
    "bash",
    "dash",
    "zsh",
    "ksh",
    "mksh",
    "ash",
    "fish",
    "csh",
    "tcsh",
    "busybox-sh",
];

/// Interpreters we have no parser for: any code given to them is opaque.
const FOREIGN_INTERPRETERS: &[&str] = &[
    "perl",
    "ruby",
    "node",
    "nodejs",
    "deno",
    "bun",
    "php",
    "lua",
    "luajit",
    "Rscript",
    "R",
    "tclsh",
    "wish",
    "osascript",
    "pwsh",
    "powershell",
    "julia",
    "groovy",
    "scala",
    "kotlin",
    "jshell",
    "irb",
    "ts-node",
    "tsx",
    "elixir",
    "erl",
    "racket",
    "guile",
    "sbcl",
    "gawk-x",
    "expect",
    "cscript",
    "wscript",
    "jjs",
    "rhino",
    "qjs",
    "swift",
    "crystal",
    "nim",
    "dotnet-script",
];

impl Shell<'_, '_> {
    fn cwd_or_root(&self, env: &Env) -> String {
        env.cwd.clone().unwrap_or_else(|| "/".to_string())
    }

    fn exec_op(&mut self, program: &str, args: &[Val], kind: ProgramKind) {
        self.push(Op::Exec {
            program: program.to_string(),
            argv: args.iter().map(|a| a.text.clone()).collect(),
            kind,
        });
    }

    fn read(&mut self, v: &Val, env: &Env) {
        if let Some(p) = self.path_of(v, env) {
            self.push(Op::FileRead { path: p });
        }
    }

    fn write(&mut self, v: &Val, env: &Env) {
        if let Some(p) = self.path_of(v, env) {
            self.push(Op::FileWrite { path: p });
        }
    }

    fn delete(&mut self, v: &Val, env: &Env, recursive: bool) {
        if let Some(p) = self.path_of(v, env) {
            self.push(Op::FileDelete { path: p, recursive });
        }
    }

    fn network(&mut self, host: &str, port: Option<u16>, via: &str) {
        self.push(Op::Network {
            host: host.to_ascii_lowercase(),
            port,
            via: via.to_string(),
        });
    }

    fn nested_code(&mut self, lang: Lang, v: &Val, env: &Env, what: &str) {
        if v.known {
            let cwd = self.cwd_or_root(env);
            self.c.nested(lang, &v.text, &cwd, None);
        } else {
            self.opaque(format!("{what} runs computed code: {}", clip(&v.text)));
        }
    }

    /// Code arriving on stdin of an interpreter.
    fn stdin_code(&mut self, lang: Lang, stdin: &Stdin, env: &Env, prog: &str) {
        match stdin {
            Stdin::Text(t) => {
                let cwd = self.cwd_or_root(env);
                self.c.nested(lang, t, &cwd, None);
            }
            Stdin::File(p) => self.c.script(p.clone(), lang),
            Stdin::Computed(what) => self.opaque(format!(
                "{} piped into {prog}: the code it runs is not known until it runs",
                clip(what)
            )),
            Stdin::Inherited => self.opaque(format!("{prog} reads code from the terminal")),
        }
    }

    /// Run `argv` (already expanded). Returns what the command writes to stdout.
    pub(crate) fn exec(
        &mut self,
        argv: Vec<Val>,
        env: &mut Env,
        stdin: Stdin,
        stdout_redirected: bool,
    ) -> Output {
        let name = &argv[0];
        if !name.known || name.indirect {
            self.opaque(format!("command name is computed: {}", clip(&name.text)));
            return Output::Other("computed command".into());
        }
        if name.glob && !matches!(name.text.as_str(), "[" | "[[") {
            self.opaque(format!("command name is a glob: {}", clip(&name.text)));
            return Output::Other("glob command".into());
        }
        let raw = name.text.clone();
        if raw.is_empty() {
            return Output::Other(String::new());
        }
        let args = &argv[1..];
        let program = if raw.contains('/') {
            let cwd = self.cwd_or_root(env);
            let abs = if env.cwd.is_none() && !raw.starts_with('/') {
                self.opaque(format!("runs {raw} from an unknown directory"));
                return Output::Other(raw);
            } else {
                paths::resolve(&cwd, &raw)
            };
            let (dir, base) = abs.rsplit_once('/').unwrap_or(("", abs.as_str()));
            let dir = if dir.is_empty() { "/" } else { dir };
            if TRUSTED_DIRS.contains(&dir) {
                base.to_string()
            } else if paths::is_within(&abs, &self.c.ctx.workspace) {
                self.exec_op(&abs, args, ProgramKind::Project);
                let lang = lang_by_extension(&abs).unwrap_or(Lang::Bash);
                self.c.script(abs, lang);
                return Output::Other(raw);
            } else {
                self.exec_op(&abs, args, ProgramKind::External);
                return Output::Other(raw);
            }
        } else {
            raw
        };
        if self.call_function(&program, args, env) {
            return Output::Other(program);
        }
        self.program(&program, args, env, stdin, stdout_redirected)
    }

    fn program(
        &mut self,
        name: &str,
        args: &[Val],
        env: &mut Env,
        stdin: Stdin,
        stdout_redirected: bool,
    ) -> Output {
        let out = Output::Other(name.to_string());
        if QUIET_BUILTINS.contains(&name) {
            return out;
        }
        match name {
            // ---- shell builtins with effects on the shell's model ----
            "cd" | "pushd" | "chdir" => {
                let target = args
                    .iter()
                    .find(|a| !a.text.starts_with('-') || a.text == "-");
                env.cwd = match target {
                    None => Some(self.c.ctx.home.clone()),
                    Some(v) if v.known && v.text != "-" => {
                        let cwd = self.cwd_or_root(env);
                        Some(paths::resolve(&cwd, &v.text))
                    }
                    _ => None,
                };
                return out;
            }
            "popd" => {
                env.cwd = None;
                return out;
            }
            "export" | "declare" | "typeset" | "local" => {
                for a in args {
                    if let Some((n, v)) = a.text.split_once('=') {
                        let val = if a.known {
                            Val::literal(v)
                        } else {
                            Val::unknown(v)
                        };
                        if is_name(n) {
                            self.check_env_assignment(n, &val, env, false);
                            env.vars.insert(n.to_string(), val);
                        }
                    } else if is_name(&a.text) && name == "local" {
                        env.vars.insert(a.text.clone(), Val::literal(""));
                    }
                }
                return out;
            }
            "read" | "mapfile" | "readarray" => {
                for a in args.iter().filter(|a| !a.text.starts_with('-')) {
                    if is_name(&a.text) {
                        env.vars
                            .insert(a.text.clone(), Val::unknown(&format!("${}", a.text)));
                    }
                }
                return out;
            }
            "alias" => {
                for a in args {
                    if let Some((_, v)) = a.text.split_once('=') {
                        let val = if a.known {
                            Val::literal(v)
                        } else {
                            Val::unknown(v)
                        };
                        self.nested_code(Lang::Bash, &val, env, "alias");
                    }
                }
                return out;
            }
            "eval" => {
                // The text is analyzed for what it shows, but eval is dynamic
                // execution all the same: never allowed on its own.
                let joined = join(args);
                self.nested_code(Lang::Bash, &joined, env, "eval");
                self.opaque(format!(
                    "eval runs text as shell code: {}",
                    clip(&joined.text)
                ));
                return out;
            }
            "source" | "." => {
                if let Some(f) = args.first() {
                    self.script_operand(f, env, Lang::Bash, name);
                }
                return out;
            }
            "trap" => {
                if let Some(code) = args.iter().find(|a| !a.text.starts_with('-')) {
                    self.nested_code(Lang::Bash, code, env, "trap");
                }
                return out;
            }
            "echo" => {
                self.exec_op(name, args, ProgramKind::System);
                let words: Vec<&Val> = args
                    .iter()
                    .skip_while(|a| matches!(a.text.as_str(), "-n" | "-e" | "-E" | "-ne" | "-en"))
                    .collect();
                let interpret = args
                    .iter()
                    .any(|a| matches!(a.text.as_str(), "-e" | "-ne" | "-en"));
                if words.iter().all(|a| a.known) {
                    let t: Vec<&str> = words.iter().map(|a| a.text.as_str()).collect();
                    let mut text = t.join(" ");
                    if interpret {
                        text = super::words::decode_ansi_c(&text);
                    }
                    text.push('\n');
                    return Output::Text(text);
                }
                return Output::Other("echo of computed text".into());
            }
            "printf" => {
                self.exec_op(name, args, ProgramKind::System);
                if args.first().is_some_and(|a| a.text == "-v") {
                    if let Some(v) = args.get(1) {
                        env.vars.insert(v.text.clone(), Val::unknown("printf -v"));
                    }
                    return out;
                }
                if args.iter().all(|a| a.known) && !args.is_empty() {
                    return match printf_static(args) {
                        Some(t) => Output::Text(t),
                        None => Output::Other("printf".into()),
                    };
                }
                return Output::Other("printf of computed text".into());
            }
            _ => {}
        }

        // ---- wrappers: the real program follows ----
        if let Some(inner) = self.unwrap_wrapper(name, args, env, &stdin) {
            return match inner {
                Some(rest) if !rest.is_empty() => self.exec(rest, env, stdin, stdout_redirected),
                _ => out,
            };
        }

        if let Some(o) = self.static_output(name, args, env) {
            self.exec_op(name, args, ProgramKind::System);
            return o;
        }
        if SHELLS.contains(&name) {
            self.exec_op(name, args, ProgramKind::System);
            if args
                .first()
                .is_some_and(|a| matches!(a.text.as_str(), "--version" | "--help"))
            {
                return out;
            }
            self.shell_invocation(name, args, env, &stdin);
            return out;
        }
        if matches!(name, "python" | "python3" | "python2" | "pypy" | "pypy3")
            || name.starts_with("python3.")
        {
            self.exec_op(name, args, ProgramKind::System);
            self.python_invocation(name, args, env, &stdin);
            return out;
        }
        if FOREIGN_INTERPRETERS.contains(&name) {
            self.exec_op(name, args, ProgramKind::System);
            self.foreign_interpreter(name, args, env, &stdin);
            return out;
        }

        self.exec_op(name, args, ProgramKind::System);

        if DATA_ONLY.contains(&name) {
            self.data_only_effects(name, args, env);
            return out;
        }
        if matches!(name, "less" | "more" | "most" | "zless" | "zmore")
            && args
                .iter()
                .any(|a| a.text.starts_with('+') && a.text.contains(['!', '|']))
        {
            self.opaque(format!("{name} is given commands that run programs"));
        }
        if READERS.contains(&name) {
            let ops = operands(args, reader_value_opts(name));
            let metadata_only = METADATA_READERS.contains(&name);
            for v in &ops {
                // A hash, size or type of an unknown file reveals nothing to guard.
                if metadata_only && !v.known {
                    continue;
                }
                self.read(v, env);
            }
            if name == "cat" && ops.len() == 1 && ops[0].known {
                let cwd = self.cwd_or_root(env);
                return Output::File(paths::resolve(&cwd, &ops[0].text));
            }
            if name == "cat"
                && ops.is_empty()
                && let Stdin::Text(t) = &stdin
            {
                return Output::Text(t.clone());
            }
            return out;
        }
        if PATTERN_FIRST.contains(&name) {
            let has_e = args.iter().any(|a| {
                a.text == "-e"
                    || a.text == "-f"
                    || a.text.starts_with("--regexp")
                    || a.text.starts_with("--file")
            });
            let ops = operands(
                args,
                "e,f,m,A,B,C,d,D,g,t,T,max-count,context,after-context,before-context,regexp,file,type,glob,arg,argjson,args,slurpfile,rawfile,indent,exclude,include,exclude-dir,label,M,max-depth,j,threads,color,colors,E,encoding",
            );
            let skip = if has_e { 0 } else { 1 };
            for v in ops.iter().skip(skip) {
                self.read(v, env);
            }
            if name == "jq" || name == "yq" {
                for w in args.windows(2) {
                    if matches!(
                        w[0].text.as_str(),
                        "--slurpfile" | "--rawfile" | "-f" | "--from-file"
                    ) {
                        self.read(&w[1], env);
                    }
                }
            }
            return out;
        }
        self.program_effects(name, args, env, &stdin);
        out
    }

    /// Commands whose output is known (or is known to be paths below a
    /// directory), for command substitutions: `$(pwd)`, `$(dirname x)`,
    /// `$(find src -name '*.rs')`, `$(which cc)`.
    fn static_output(&mut self, name: &str, args: &[Val], env: &Env) -> Option<Output> {
        let cwd = env.cwd.clone();
        match name {
            "pwd" => cwd.map(Output::Text),
            "dirname" | "basename" | "realpath" | "readlink" => {
                let ops = operands(args, "s,suffix,relative-to,relative-base");
                let [v] = ops.as_slice() else { return None };
                if !v.known {
                    return None;
                }
                let text = match name {
                    "dirname" => {
                        let t = v.text.trim_end_matches('/');
                        match t.rfind('/') {
                            Some(0) => "/".to_string(),
                            Some(i) => t[..i].to_string(),
                            None => ".".to_string(),
                        }
                    }
                    "basename" => v
                        .text
                        .trim_end_matches('/')
                        .rsplit('/')
                        .next()
                        .unwrap_or("")
                        .to_string(),
                    _ => paths::resolve(cwd.as_deref()?, &v.text),
                };
                if name == "realpath" || name == "readlink" {
                    self.read(v, env);
                }
                Some(Output::Text(text))
            }
            "which" | "type" => Some(Output::Paths("/usr/bin".into())),
            "find" => {
                let roots: Vec<&Val> = args
                    .iter()
                    .take_while(|a| !a.text.starts_with('-') && a.text != "(" && a.text != "!")
                    .collect();
                let mut e = env.clone();
                self.find(args, &mut e);
                match roots.as_slice() {
                    [] => cwd.map(Output::Paths),
                    [r] if r.known => Some(Output::Paths(paths::resolve(
                        cwd.as_deref().unwrap_or("/"),
                        &r.text,
                    ))),
                    _ => Some(Output::Other("find".into())),
                }
            }
            _ => None,
        }
    }

    /// Effects of programs with their own argument rules.
    fn program_effects(&mut self, name: &str, args: &[Val], env: &mut Env, stdin: &Stdin) {
        match name {
            "rm" | "unlink" | "shred" | "srm" | "trash" | "trash-put" | "rmdir" => {
                let recursive = name == "rmdir"
                    || args.iter().any(|a| {
                        a.text == "--recursive"
                            || (a.text.starts_with('-')
                                && !a.text.starts_with("--")
                                && a.text.contains(['r', 'R']))
                    });
                for v in operands(args, "n,s,u") {
                    self.delete(v, env, recursive);
                }
            }
            "touch" | "mkdir" | "mkfifo" | "mknod" | "truncate" | "fallocate" | "dos2unix"
            | "unix2dos" | "sponge" => {
                for v in operands(
                    args,
                    "d,r,t,m,s,l,o,n,reference,size,length,offset,mode,date",
                ) {
                    self.write(v, env);
                }
                if name == "fallocate" || name == "truncate" {
                    self.size_check(args);
                }
            }
            "tee" => {
                for v in operands(args, "") {
                    self.write(v, env);
                }
            }
            "cp" | "mv" | "install" | "ln" | "link" | "rsync" | "scp" | "sftp" | "rclone" => {
                self.copy_like(name, args, env);
            }
            "dd" => {
                for a in args {
                    if let Some(f) = a.text.strip_prefix("if=") {
                        self.read(&sub_val(a, f), env);
                    } else if let Some(f) = a.text.strip_prefix("of=") {
                        self.write(&sub_val(a, f), env);
                    }
                }
                let has_count = args.iter().any(|a| a.text.starts_with("count="));
                let from_dev = args.iter().any(|a| {
                    matches!(
                        a.text.as_str(),
                        "if=/dev/zero" | "if=/dev/urandom" | "if=/dev/random"
                    )
                });
                if from_dev && !has_count {
                    self.opaque("dd from an endless device without count (fills the disk)");
                }
                if !args.iter().any(|a| a.text.starts_with("if=")) {
                    self.stdin_read(stdin, env);
                }
            }
            "chmod" | "chown" | "chgrp" | "chattr" | "setfacl" | "chcon" => {
                let skip_first =
                    name != "chattr" || args.iter().any(|a| a.text.starts_with(['+', '=']));
                let mode = operands(args, "reference,from")
                    .first()
                    .map(|v| v.text.clone());
                let setid = name == "chmod" && mode.as_deref().is_some_and(mode_sets_id);
                let ops = operands(args, "reference,from,m,x,M,X");
                for v in ops.iter().skip(usize::from(skip_first)) {
                    if let Some(p) = self.path_of(v, env) {
                        self.push(Op::FileMode { path: p, setid });
                    }
                }
                if setid {
                    self.push(Op::Privilege {
                        how: "sets a set-uid/set-gid bit".into(),
                    });
                }
            }
            "setcap" => self.push(Op::Privilege {
                how: "sets file capabilities".into(),
            }),
            "sed" | "gsed" => self.sed(args, env),
            "awk" | "gawk" | "mawk" | "nawk" => self.awk(args, env),
            "find" => self.find(args, env),
            "tar" | "bsdtar" | "gtar" => self.tar(args, env),
            "zip"
                if args
                    .iter()
                    .any(|a| a.text == "-TT" || a.text.starts_with("--unzip-command")) =>
            {
                for w in args.windows(2) {
                    if w[0].text == "-TT" || w[0].text == "--unzip-command" {
                        self.nested_code(Lang::Sh, &w[1], env, "zip -TT");
                    }
                }
                for a in args {
                    if let Some(c) = a.text.strip_prefix("--unzip-command=") {
                        self.nested_code(Lang::Sh, &sub_val(a, c), env, "zip -TT");
                    }
                }
            }
            "zip" | "7z" | "7za" | "rar" => {
                let ops = operands(args, "x,i,P,p,b,t,tt,n");
                if let Some((first, rest)) = ops.split_first() {
                    if matches!(first.text.as_str(), "x" | "e") && name.starts_with('7') {
                        for v in rest {
                            self.read(v, env);
                        }
                        self.write_cwd(env);
                    } else {
                        self.write(first, env);
                        for v in rest {
                            self.read(v, env);
                        }
                    }
                }
            }
            "unzip" | "unrar" => {
                let ops = operands(args, "d,x,P");
                if let Some(first) = ops.first() {
                    self.read(first, env);
                }
                let dest = args
                    .windows(2)
                    .find(|w| w[0].text == "-d")
                    .map(|w| w[1].clone());
                let list_only = args
                    .iter()
                    .any(|a| a.text == "-l" || a.text == "-t" || a.text == "-p");
                if !list_only {
                    match dest {
                        Some(d) => self.write(&d, env),
                        None => self.write_cwd(env),
                    }
                }
            }
            "gzip" | "gunzip" | "bzip2" | "bunzip2" | "xz" | "unxz" | "zstd" | "unzstd" | "lz4"
            | "brotli" | "compress" | "uncompress" | "pigz" | "lzma" | "unlzma" => {
                let to_stdout = args.iter().any(|a| {
                    a.text == "-c"
                        || a.text == "--stdout"
                        || a.text == "-l"
                        || a.text == "-t"
                        || (a.text.starts_with('-')
                            && !a.text.starts_with("--")
                            && a.text.contains(['c', 'l', 't']))
                });
                for v in operands(args, "S,suffix,o,T,threads,b") {
                    self.read(v, env);
                    if !to_stdout {
                        self.write(v, env);
                    }
                }
                if let Some(w) = args.windows(2).find(|w| w[0].text == "-o") {
                    self.write(&w[1], env);
                }
            }
            "split" | "csplit"
                if operands(args, "l,b,C,n,a,t,d,additional-suffix,f,prefix").len() > 2
                    && name == "split" =>
            {
                // coreutils split takes a file and a prefix; this is another tool of the same name.
                self.opaque(format!(
                    "split called as another program: {}",
                    clip(&join(args).text)
                ));
            }
            "split" | "csplit" => {
                let ops = operands(args, "l,b,C,n,a,t,d,additional-suffix,f,prefix");
                if let Some(f) = ops.first() {
                    self.read(f, env);
                }
                match ops.get(1) {
                    Some(p) => {
                        let mut g = (*p).clone();
                        g.text.push('*');
                        g.glob = true;
                        self.write(&g, env);
                    }
                    None => self.write_cwd(env),
                }
            }
            "xxd" => {
                let ops = operands(args, "c,g,l,s,o,n,C");
                if let Some(f) = ops.first() {
                    self.read(f, env);
                }
                if let Some(f) = ops.get(1) {
                    self.write(f, env);
                }
            }
            "mktemp" => {}
            "ssh-keygen" if args.iter().any(|a| a.text == "-R") => {
                let home = self.c.ctx.home.clone();
                match args.windows(2).find(|w| w[0].text == "-f") {
                    Some(w) => self.write(&w[1], env),
                    None => self.write(&Val::literal(&format!("{home}/.ssh/known_hosts")), env),
                }
            }
            "ssh-keygen" => {
                let reading = args.iter().any(|a| {
                    matches!(
                        a.text.as_str(),
                        "-l" | "-y" | "-F" | "-R" | "-H" | "-lf" | "-e" | "-i"
                    )
                });
                if let Some(w) = args.windows(2).find(|w| w[0].text == "-f") {
                    if reading {
                        self.read(&w[1], env);
                    } else {
                        self.write(&w[1], env);
                        let mut pub_ = w[1].clone();
                        pub_.text.push_str(".pub");
                        self.write(&pub_, env);
                    }
                } else if !reading && !args.iter().any(|a| a.text == "-V") {
                    let home = self.c.ctx.home.clone();
                    self.write(&Val::literal(&format!("{home}/.ssh/id_rsa")), env);
                }
            }
            "sqlite3" | "sqlite" => self.sqlite3(args, env, stdin),
            "psql" | "mysql" | "mariadb" | "pgcli" | "mycli" | "clickhouse-client"
            | "cockroach" => self.sql_client(name, args, env, stdin),
            "redis-cli" | "valkey-cli" => self.redis(args, env),
            "mongo" | "mongosh" => {
                self.opaque(format!("{name} runs JavaScript against a database"))
            }
            "curl" | "wget" | "http" | "https" | "httpie" | "xh" | "aria2c" | "lynx" | "w3m"
            | "links" | "elinks" | "axel" | "fetch" => self.http_client(name, args, env),
            "nc" | "ncat" | "netcat" | "socat" | "telnet" | "ftp" | "tftp" | "sshpass" | "mosh"
            | "openssl" | "nmap" | "ping" | "ping6" | "traceroute" | "tracepath" | "mtr"
            | "dig" | "nslookup" | "host" | "whois" | "arping" | "hping3" | "masscan" | "zmap"
            | "smbclient" | "ldapsearch" | "snmpwalk" | "tcpdump" | "tshark" | "iperf"
            | "iperf3" | "ssh" | "ssh-copy-id" | "autossh" => self.net_tool(name, args, env, stdin),
            "git" => self.git(args, env),
            "kill" | "pkill" | "killall" | "skill" | "xkill" | "killall5" => self.kill(name, args),
            "systemctl" | "service" | "launchctl" | "rc-service" | "initctl" | "sv"
            | "supervisorctl" => self.service(name, args),
            "reboot" | "shutdown" | "halt" | "poweroff" | "init" | "telinit" => {
                self.push(Op::Signal {
                    target: "system".into(),
                    how: name.to_string(),
                })
            }
            "crontab" => {
                let listing = args.iter().any(|a| a.text == "-l");
                if !listing {
                    self.push(Op::Persistence {
                        what: format!("crontab {}", join(args).text),
                    });
                }
            }
            "at" | "batch" | "atq" | "atrm" | "update-rc.d" | "chkconfig" | "schtasks" => {
                if name != "atq" {
                    self.push(Op::Persistence {
                        what: format!("{name} {}", join(args).text),
                    });
                }
            }
            "pip" | "pip3" | "pipx" | "uv" | "poetry" | "pipenv" | "conda" | "mamba"
            | "easy_install" => self.pip_like(name, args),
            "npm" | "yarn" | "pnpm" | "bun" | "npx" | "pnpx" => self.npm_like(name, args),
            "cargo" => self.cargo(args),
            "go" => {
                if matches!(
                    args.first().map(|a| a.text.as_str()),
                    Some("get" | "install")
                ) {
                    self.package(name, args);
                }
            }
            "gem" | "bundle" | "composer" | "cpan" | "cpanm" | "brew" | "apt" | "apt-get"
            | "aptitude" | "dpkg" | "rpm" | "yum" | "dnf" | "zypper" | "pacman" | "apk"
            | "snap" | "flatpak" | "port" | "nix-env" | "choco" | "winget" | "helm" | "krew"
            | "asdf" | "rustup" | "sdk" | "nvm" | "opam" | "stack" | "cabal" | "luarocks"
            | "dotnet" | "nuget" => self.system_package(name, args),
            "make" | "gmake" => {
                if args.iter().any(|a| {
                    matches!(
                        a.text.as_str(),
                        "install" | "uninstall" | "publish" | "release" | "deploy"
                    )
                }) {
                    self.package(name, args);
                }
                if let Some(w) = args
                    .windows(2)
                    .find(|w| w[0].text == "-f" || w[0].text == "--file")
                {
                    if matches!(w[1].text.as_str(), "-" | "/dev/stdin") || !w[1].known {
                        self.opaque("make reads its makefile from stdin or a computed place");
                    } else {
                        self.project_script(&w[1], env, "make -f");
                    }
                }
            }
            "docker" | "podman" | "nerdctl" => self.docker(name, args, env),
            "su" | "sudo" | "doas" | "pkexec" | "runuser" | "chroot" | "nsenter" | "unshare"
            | "setpriv" | "capsh" | "newgrp" | "sg" | "passwd" | "chpasswd" | "usermod"
            | "useradd" | "userdel" | "groupadd" | "groupmod" | "gpasswd" | "visudo"
            | "adduser" | "deluser" | "insmod" | "modprobe" | "rmmod" | "sysctl" | "mount"
            | "umount" | "swapon" | "swapoff" | "iptables" | "ip6tables" | "nft" | "ufw"
            | "firewall-cmd" | "setenforce" | "losetup" => {
                if !(args.is_empty() && matches!(name, "mount" | "sysctl" | "iptables")) {
                    self.push(Op::Privilege {
                        how: format!("{name} {}", clip(&join(args).text)),
                    });
                }
            }
            "history" => {
                let home = self.c.ctx.home.clone();
                self.read(&Val::literal(&format!("{home}/.bash_history")), env);
            }
            "base64" | "openssl-enc" => {}
            "java" => {
                if let Some(w) = args.windows(2).find(|w| w[0].text == "-jar") {
                    self.project_script(&w[1], env, "java -jar");
                }
                self.url_args(name, args);
            }
            _ => {
                // An unknown program: files it is given are at least read, and
                // URLs it is given are hosts it may reach.
                for v in operands(args, "") {
                    if looks_like_path(&v.text) {
                        self.read(v, env);
                    }
                }
                self.url_args(name, args);
                if args.iter().any(|a| a.known && has_code_markers(&a.text)) {
                    self.opaque(format!(
                        "{name} is given text with command substitutions, which it may run"
                    ));
                }
            }
        }
    }

    /// URLs among a program's arguments (`-s http://host/`, `--url=https://x`).
    fn url_args(&mut self, name: &str, args: &[Val]) {
        for a in args {
            let t = a
                .text
                .split_once('=')
                .filter(|(k, _)| k.starts_with('-'))
                .map(|(_, v)| v)
                .unwrap_or(&a.text);
            if let Some((h, p)) = url_host_port(t)
                && !t.starts_with("file://")
            {
                self.network(&h, p, name);
            }
        }
    }

    fn stdin_read(&mut self, stdin: &Stdin, env: &Env) {
        if let Stdin::File(p) = stdin {
            self.read(&Val::literal(p), env);
        }
    }

    fn write_cwd(&mut self, env: &Env) {
        let cwd = self.cwd_or_root(env);
        let mut g = Val::literal(&format!("{}/*", cwd.trim_end_matches('/')));
        g.glob = true;
        self.write(&g, env);
    }

    fn size_check(&mut self, args: &[Val]) {
        for w in args.windows(2) {
            if matches!(w[0].text.as_str(), "-l" | "-s" | "--length" | "--size") {
                let t = w[1].text.to_ascii_uppercase();
                if t.ends_with('G') || t.ends_with('T') || t.ends_with("GB") || t.ends_with("TB") {
                    self.opaque(format!("allocates {} of disk", w[1].text));
                }
            }
        }
    }

    /// `script.sh`, `bash x.sh`, `source f`: a script file for the gate to read.
    fn script_operand(&mut self, f: &Val, env: &Env, lang: Lang, via: &str) {
        if f.computed && f.text.starts_with("<(") {
            self.opaque(format!("{via} runs code from a process substitution"));
            return;
        }
        if !f.known {
            self.opaque(format!(
                "{via} runs a script whose name is computed: {}",
                clip(&f.text)
            ));
            return;
        }
        match self.path_of(f, env) {
            Some(p) if p.exact == Exactness::Literal => {
                self.push(Op::FileRead { path: p.clone() });
                self.c.script(p.path, lang);
            }
            Some(p) => self.opaque(format!(
                "{via} runs a script named by a pattern: {}",
                p.path
            )),
            None => self.opaque(format!("{via} runs code from {}", f.text)),
        }
    }

    fn shell_invocation(&mut self, name: &str, args: &[Val], env: &Env, stdin: &Stdin) {
        let lang = if matches!(name, "sh" | "dash" | "ash") {
            Lang::Sh
        } else {
            Lang::Bash
        };
        let mut i = 0;
        while i < args.len() {
            let a = &args[i];
            if a.text == "--" {
                i += 1;
                break;
            }
            if a.text.starts_with('-') || a.text.starts_with('+') {
                if a.text.starts_with("--") {
                    if a.text == "--rcfile" || a.text == "--init-file" {
                        if let Some(f) = args.get(i + 1) {
                            self.script_operand(f, env, lang, name);
                        }
                        i += 2;
                        continue;
                    }
                    i += 1;
                    continue;
                }
                if a.text.contains('c') && a.text.starts_with('-') {
                    // `-c CODE` (possibly grouped: `-ec`, `-uc`).
                    match args.get(i + 1) {
                        Some(code) => self.nested_code(lang, code, env, name),
                        None => self.opaque(format!("{name} -c without code")),
                    }
                    return;
                }
                if a.text.contains('o') || a.text.contains('O') {
                    i += 2;
                    continue;
                }
                i += 1;
                continue;
            }
            break;
        }
        match args.get(i) {
            Some(f) => self.script_operand(f, env, lang, name),
            None => self.stdin_code(lang, stdin, env, name),
        }
    }

    fn python_invocation(&mut self, name: &str, args: &[Val], env: &mut Env, stdin: &Stdin) {
        if args.first().is_some_and(|a| {
            matches!(
                a.text.as_str(),
                "--version" | "-V" | "-VV" | "--help" | "-h"
            )
        }) {
            return;
        }
        let mut i = 0;
        while i < args.len() {
            let a = &args[i];
            match a.text.as_str() {
                "-c" => {
                    match args.get(i + 1) {
                        Some(code) => self.nested_code(Lang::Python, code, env, name),
                        None => self.opaque("python -c without code"),
                    }
                    return;
                }
                "-m" => {
                    let module = args.get(i + 1).map(|m| m.text.as_str()).unwrap_or("");
                    let rest = args.get(i + 2..).unwrap_or(&[]);
                    self.python_module(module, rest, env);
                    return;
                }
                "-W" | "-X" | "-Q" => i += 2,
                "-" => {
                    self.stdin_code(Lang::Python, stdin, env, name);
                    return;
                }
                t if t.starts_with('-') => {
                    if t.len() > 2 && t[1..].contains('c') && !t.starts_with("--") {
                        match args.get(i + 1) {
                            Some(code) => self.nested_code(Lang::Python, code, env, name),
                            None => self.opaque("python -c without code"),
                        }
                        return;
                    }
                    i += 1
                }
                _ => break,
            }
        }
        match args.get(i) {
            Some(f) => self.script_operand(f, env, Lang::Python, name),
            None => self.stdin_code(Lang::Python, stdin, env, name),
        }
    }

    fn python_module(&mut self, module: &str, rest: &[Val], env: &mut Env) {
        match module {
            "pip" => self.pip_like("pip", rest),
            "http.server" | "SimpleHTTPServer" | "smtpd" | "ftplib" => self.push(Op::Network {
                host: "0.0.0.0".into(),
                port: None,
                via: format!("python -m {module}"),
            }),
            "venv" | "virtualenv" => {
                for v in operands(rest, "") {
                    self.write(v, env);
                }
            }
            "json.tool" | "tokenize" | "py_compile" | "compileall" | "pydoc" | "timeit"
            | "unittest" | "pytest" | "doctest" | "black" | "ruff" | "mypy" | "pylint"
            | "flake8" | "isort" | "coverage" | "cProfile" | "profile" | "pdb" | "trace"
            | "site" | "platform" | "sysconfig" | "this" | "calendar" | "base64" | "zipfile"
            | "tarfile" | "gzip" | "uuid" | "pyflakes" | "build" | "tox" | "nox" => {
                for v in operands(rest, "") {
                    if looks_like_path(&v.text) {
                        self.read(v, env);
                    }
                }
            }
            m => {
                // A project module (`python -m app.main`) or something unknown.
                self.push(Op::Exec {
                    program: format!("python -m {m}"),
                    argv: rest.iter().map(|a| a.text.clone()).collect(),
                    kind: ProgramKind::System,
                });
            }
        }
    }

    /// A script in a language without a parser here: project code when it is
    /// in the workspace and was not written by this same code; opaque otherwise.
    fn project_script(&mut self, f: &Val, env: &Env, via: &str) {
        self.project_script_with_args(f, &[], env, via);
    }

    /// As `project_script`, recording the arguments the script is given.
    fn project_script_with_args(&mut self, f: &Val, args: &[&Val], env: &Env, via: &str) {
        if !f.known {
            self.opaque(format!("{via} runs a script whose name is computed"));
            return;
        }
        let cwd = self.cwd_or_root(env);
        let p = paths::resolve(&cwd, &f.text);
        self.read(f, env);
        if paths::is_within(&p, &self.c.ctx.workspace) && !self.c.was_written(&p) {
            // Project code in a language we do not parse: it is the
            // project's own, like `cargo test`, and judged as such.
            self.push(Op::Exec {
                program: p,
                argv: args.iter().map(|a| a.text.clone()).collect(),
                kind: ProgramKind::Project,
            });
        } else {
            self.opaque(format!("{via} runs {} (cannot be inspected)", f.text));
        }
    }

    fn foreign_interpreter(&mut self, name: &str, args: &[Val], env: &Env, stdin: &Stdin) {
        let code_flags: &[&str] = match name {
            "perl" => &["-e", "-E"],
            "ruby" | "lua" | "luajit" | "Rscript" | "julia" | "elixir" => &["-e"],
            "node" | "nodejs" | "bun" | "deno" | "qjs" => {
                &["-e", "-p", "--eval", "--print", "eval"]
            }
            "php" => &["-r"],
            "osascript" => &["-e"],
            "pwsh" | "powershell" => &[
                "-c",
                "-Command",
                "-command",
                "-EncodedCommand",
                "-e",
                "-enc",
            ],
            _ => &[],
        };
        if name == "perl" {
            // `perl -pe 's/a/b/' file`: a plain substitution reads and maybe edits files.
            if let Some(code) = perl_simple_edit(args) {
                let in_place = args.iter().any(|a| {
                    a.text.starts_with("-i")
                        || a.text.starts_with("-pi")
                        || a.text.starts_with("-ni")
                });
                let files = operands(args, "e,E,I,M,m");
                for f in files.iter().filter(|f| f.text != code) {
                    self.read(f, env);
                    if in_place {
                        self.write(f, env);
                    }
                }
                return;
            }
        }
        if args.iter().any(|a| {
            code_flags.iter().any(|f| {
                a.text == *f
                    || (a.text.starts_with('-')
                        && f.len() == 2
                        && a.text.len() > 2
                        && !a.text.starts_with("--")
                        && a.text.ends_with(&f[1..]))
            })
        }) {
            self.opaque(format!(
                "{name} code cannot be inspected (no parser for {name})"
            ));
            return;
        }
        let ops = operands(args, "I,M,r");
        match ops.first() {
            Some(f) => self.project_script_with_args(f, &ops[1..], env, name),
            None => match stdin {
                Stdin::Inherited
                    if args.iter().any(|a| {
                        matches!(a.text.as_str(), "--version" | "-v" | "-V" | "--help" | "-h")
                    }) => {}
                _ => self.opaque(format!(
                    "{name} reads code from stdin (no parser for {name})"
                )),
            },
        }
    }

    /// Wrappers: returns `Some(rest)` when `name` is a wrapper and `rest` is
    /// the command it runs (`None` inside when it runs nothing).
    fn unwrap_wrapper(
        &mut self,
        name: &str,
        args: &[Val],
        env: &mut Env,
        stdin: &Stdin,
    ) -> Option<Option<Vec<Val>>> {
        let skip_opts = |args: &[Val], with_value: &str, stop_at_first: bool| -> usize {
            let wv: Vec<&str> = with_value.split(',').filter(|s| !s.is_empty()).collect();
            let mut i = 0;
            while i < args.len() {
                let t = args[i].text.as_str();
                if t == "--" {
                    return i + 1;
                }
                if !t.starts_with('-') || t == "-" {
                    break;
                }
                let key = t.trim_start_matches('-');
                let key = key.split('=').next().unwrap_or(key);
                if !t.contains('=') && wv.contains(&key) {
                    i += 2;
                } else {
                    i += 1;
                }
                if stop_at_first {
                    break;
                }
            }
            i.min(args.len())
        };
        let rest = |i: usize| Some(Some(args.get(i..).unwrap_or(&[]).to_vec()));
        match name {
            "sudo" | "doas" | "pkexec" | "run0" => {
                self.push(Op::Privilege {
                    how: format!("{name} {}", clip(&join(args).text)),
                });
                if args.iter().any(|a| {
                    a.text == "-s" || a.text == "-i" || a.text == "--shell" || a.text == "--login"
                }) && args.len() == 1
                {
                    self.opaque(format!("{name} opens a root shell"));
                    return Some(None);
                }
                let i = skip_opts(
                    args,
                    "u,g,h,p,C,D,r,t,T,U,user,group,host,prompt,chdir,role,type,other-user,close-from",
                    false,
                );
                rest(i)
            }
            "su" | "runuser" => {
                self.push(Op::Privilege {
                    how: format!("{name} {}", clip(&join(args).text)),
                });
                if let Some(w) = args
                    .windows(2)
                    .find(|w| w[0].text == "-c" || w[0].text == "--command")
                {
                    self.nested_code(Lang::Bash, &w[1], env, name);
                } else {
                    self.opaque(format!("{name} opens a shell as another user"));
                }
                Some(None)
            }
            "env" => {
                let mut i = 0;
                while i < args.len() {
                    let t = args[i].text.as_str();
                    if t == "-S" || t == "--split-string" {
                        let s = args.get(i + 1).cloned().unwrap_or_default();
                        let mut tail: Vec<Val> =
                            s.text.split_whitespace().map(Val::literal).collect();
                        if !s.known {
                            self.opaque("env -S with a computed string");
                            return Some(None);
                        }
                        tail.extend(args.get(i + 2..).unwrap_or(&[]).iter().cloned());
                        return Some(Some(tail));
                    }
                    if t == "-u" || t == "--unset" || t == "-C" || t == "--chdir" {
                        if (t == "-C" || t == "--chdir")
                            && let Some(d) = args.get(i + 1)
                        {
                            env.cwd = if d.known {
                                Some(paths::resolve(&self.cwd_or_root(env), &d.text))
                            } else {
                                None
                            };
                        }
                        i += 2;
                        continue;
                    }
                    if t.starts_with('-') {
                        i += 1;
                        continue;
                    }
                    if let Some((n, v)) = t.split_once('=')
                        && is_name(n)
                    {
                        let val = if args[i].known {
                            Val::literal(v)
                        } else {
                            Val::unknown(v)
                        };
                        self.check_env_assignment(n, &val, env, true);
                        i += 1;
                        continue;
                    }
                    break;
                }
                if i >= args.len() {
                    return Some(None);
                }
                rest(i)
            }
            "command" | "builtin" => {
                if args
                    .iter()
                    .take_while(|a| a.text.starts_with('-'))
                    .any(|a| a.text.contains(['v', 'V']))
                {
                    return Some(None);
                }
                rest(skip_opts(args, "", false))
            }
            "exec" => rest(skip_opts(args, "a", false)),
            "nice" => rest(skip_opts(args, "n,adjustment", false)),
            "nohup" | "setsid" | "unbuffer" | "catchsegv" | "caffeinate" | "chronic" | "tini"
            | "dumb-init" | "faketime-x" | "torsocks" | "proxychains" | "proxychains4"
            | "tsocks" | "firejail" => {
                let i = skip_opts(args, "", false);
                if matches!(name, "torsocks" | "proxychains" | "proxychains4" | "tsocks") {
                    self.network("proxy", None, name);
                }
                rest(i)
            }
            "time" => rest(skip_opts(args, "f,o,format,output", false)),
            "timeout" => {
                let i = skip_opts(args, "s,k,signal,kill-after", false);
                rest(i + 1)
            }
            "stdbuf" => rest(skip_opts(args, "i,o,e,input,output,error", false)),
            "ionice" => rest(skip_opts(args, "c,n,p,t,class,classdata", false)),
            "chrt" => {
                let i = skip_opts(args, "", false);
                rest(i + 1)
            }
            "taskset" => {
                let i = skip_opts(args, "", false);
                rest(i + 1)
            }
            "flock" => {
                let i = skip_opts(args, "w,E,timeout,conflict-exit-code", false);
                if let Some(w) = args
                    .windows(2)
                    .find(|w| w[0].text == "-c" || w[0].text == "--command")
                {
                    self.nested_code(Lang::Bash, &w[1], env, name);
                    return Some(None);
                }
                rest(i + 1)
            }
            "strace" | "ltrace" | "valgrind" | "perf" | "gdb" | "lldb" | "hyperfine" | "entr" => {
                match name {
                    "hyperfine" => {
                        for v in operands(
                            args,
                            "w,r,m,M,p,c,s,u,export-json,export-markdown,n,warmup,runs,prepare,cleanup,setup",
                        ) {
                            self.nested_code(Lang::Bash, v, env, name);
                        }
                        Some(None)
                    }
                    "perf" => {
                        let i = skip_opts(args, "", true);
                        let j =
                            i + skip_opts(
                                args.get(i + 1..).unwrap_or(&[]),
                                "e,o,p,F,c,event,output",
                                false,
                            ) + 1;
                        rest(j)
                    }
                    "gdb" | "lldb" => {
                        if args
                            .iter()
                            .any(|a| a.text == "-batch" || a.text == "-ex" || a.text == "--args")
                        {
                            self.opaque(format!("{name} runs a program under a debugger"));
                        }
                        Some(None)
                    }
                    _ => rest(skip_opts(args, "o,e,p,s,E,u,tool,log-file", false)),
                }
            }
            "xargs" => {
                let i = skip_opts(
                    args,
                    "I,i,L,l,n,P,s,E,e,d,a,max-args,max-procs,max-lines,delimiter,arg-file,replace,eof",
                    false,
                );
                let mut cmd: Vec<Val> = args.get(i..).unwrap_or(&[]).to_vec();
                if cmd.is_empty() {
                    cmd.push(Val::literal("echo"));
                }
                // The arguments xargs adds come from stdin: known when stdin is.
                let replace = args
                    .windows(2)
                    .find(|w| w[0].text == "-I" || w[0].text == "-i")
                    .map(|w| w[1].text.clone());
                if let Stdin::Text(t) = stdin {
                    let nul = args.iter().any(|a| a.text == "-0" || a.text == "--null");
                    let items: Vec<&str> = if nul {
                        t.split('\0').filter(|x| !x.is_empty()).collect()
                    } else if replace.is_some() {
                        t.lines().filter(|x| !x.trim().is_empty()).collect()
                    } else {
                        t.split_whitespace().collect()
                    };
                    if items.len() <= 16 {
                        match &replace {
                            Some(r) => {
                                for it in items {
                                    let c: Vec<Val> = cmd
                                        .iter()
                                        .map(|a| Val::literal(&a.text.replace(r.as_str(), it)))
                                        .collect();
                                    let mut e = env.clone();
                                    self.exec(c, &mut e, Stdin::Inherited, false);
                                }
                                return Some(None);
                            }
                            None => {
                                cmd.extend(items.into_iter().map(Val::literal));
                                return Some(Some(cmd));
                            }
                        }
                    }
                }
                let unknown = Val::unknown("{xargs input}");
                match replace {
                    Some(r) => {
                        for a in cmd.iter_mut().skip(1) {
                            if a.text.contains(r.as_str()) {
                                let prefix =
                                    a.text.split(r.as_str()).next().unwrap_or("").to_string();
                                let mut u = Val::unknown(&a.text);
                                u.known_prefix = prefix.len();
                                *a = u;
                            }
                        }
                    }
                    None => cmd.push(unknown),
                }
                Some(Some(cmd))
            }
            "watch" => {
                let i = skip_opts(args, "n,d,interval,differences,q", false);
                let code = join(args.get(i..).unwrap_or(&[]));
                self.nested_code(Lang::Bash, &code, env, name);
                Some(None)
            }
            "busybox" | "toybox" => {
                if args.is_empty() || args[0].text.starts_with('-') {
                    return Some(None);
                }
                rest(0)
            }
            "parallel" => {
                let code = join(
                    args.iter()
                        .take_while(|a| a.text != ":::")
                        .cloned()
                        .collect::<Vec<_>>()
                        .as_slice(),
                );
                self.opaque(format!("parallel runs {} with inputs", clip(&code.text)));
                Some(None)
            }
            "script" => {
                if let Some(w) = args
                    .windows(2)
                    .find(|w| w[0].text == "-c" || w[0].text == "--command")
                {
                    self.nested_code(Lang::Bash, &w[1], env, name);
                }
                Some(None)
            }
            _ => None,
        }
    }

    fn data_only_effects(&mut self, name: &str, args: &[Val], env: &Env) {
        match name {
            "date"
                if args
                    .iter()
                    .any(|a| a.text == "-s" || a.text.starts_with("--set")) =>
            {
                self.push(Op::Privilege {
                    how: "sets the system clock".into(),
                })
            }
            "date" => {
                if let Some(w) = args
                    .windows(2)
                    .find(|w| matches!(w[0].text.as_str(), "-f" | "-r" | "--file" | "--reference"))
                {
                    self.read(&w[1], env);
                }
            }
            "hostname" if args.iter().any(|a| !a.text.starts_with('-')) => {
                self.push(Op::Privilege {
                    how: "sets the host name".into(),
                })
            }
            "ip" | "ifconfig" | "route" | "arp"
                if args.iter().any(|a| {
                    matches!(
                        a.text.as_str(),
                        "add"
                            | "del"
                            | "delete"
                            | "set"
                            | "flush"
                            | "change"
                            | "replace"
                            | "up"
                            | "down"
                    )
                }) =>
            {
                self.push(Op::Privilege {
                    how: format!("{name} changes network configuration"),
                })
            }
            "timedatectl" | "hostnamectl" | "localectl"
                if args.iter().any(|a| a.text.starts_with("set")) =>
            {
                self.push(Op::Privilege {
                    how: format!("{name} changes system settings"),
                })
            }
            "env" if !args.is_empty() => {}
            "yes" => {}
            "bc" | "dc" => {
                for v in operands(args, "e,f") {
                    self.read(v, env);
                }
            }
            _ => {}
        }
    }

    fn copy_like(&mut self, name: &str, args: &[Val], env: &mut Env) {
        if name == "rsync" || name == "scp" || name == "rclone" || name == "sftp" {
            for w in args.windows(2) {
                if w[0].text == "-e" || w[0].text == "--rsh" {
                    self.nested_code(Lang::Bash, &w[1], env, name);
                }
            }
            for a in args {
                if let Some(v) = a.text.strip_prefix("--rsh=") {
                    self.nested_code(Lang::Bash, &sub_val(a, v), env, name);
                }
                if a.text.starts_with("-o") && a.text.contains("ProxyCommand") {
                    self.opaque(format!("{name} ProxyCommand runs a command"));
                }
            }
        }
        let value_opts = match name {
            "rsync" => {
                "e,rsh,exclude,include,filter,f,chmod,chown,B,block-size,bwlimit,timeout,port,T,temp-dir,partial-dir,backup-dir,suffix,log-file,password-file,files-from,exclude-from,include-from,rsync-path,max-size,min-size,compare-dest,copy-dest,link-dest"
            }
            "scp" => "i,o,P,F,c,l,S,J",
            "install" => "m,o,g,t,S,mode,owner,group,target-directory,suffix",
            "cp" | "mv" | "ln" => "t,S,target-directory,suffix",
            "rclone" => "config,transfers,checkers,exclude,include,filter",
            _ => "",
        };
        let mut ops: Vec<Val> = operands(args, value_opts).into_iter().cloned().collect();
        if name == "rclone" && !ops.is_empty() {
            let sub = ops.remove(0);
            if matches!(
                sub.text.as_str(),
                "delete" | "purge" | "deletefile" | "rmdir" | "rmdirs" | "cleanup"
            ) {
                self.push(Op::FileDelete {
                    path: PathRef {
                        path: "remote".into(),
                        exact: Exactness::Unknown,
                    },
                    recursive: true,
                });
            }
        }
        let target_dir = args
            .windows(2)
            .find(|w| w[0].text == "-t" || w[0].text == "--target-directory")
            .map(|w| w[1].clone());
        let (srcs, dest): (Vec<Val>, Option<Val>) = match target_dir {
            Some(t) => (ops.clone(), Some(t)),
            None => {
                let dest = ops.pop();
                (ops.clone(), dest)
            }
        };
        let mut remote = false;
        for v in srcs.iter().chain(dest.iter()) {
            if let Some(host) = remote_host(&v.text) {
                remote = true;
                self.network(&host, None, name);
            }
        }
        if name == "sftp" {
            if let Some(d) = dest.as_ref().or(srcs.first())
                && remote_host(&d.text).is_none()
                && !d.text.starts_with('-')
            {
                self.network(&host_of_userhost(&d.text), None, name);
            }
            return;
        }
        let _ = remote;
        if name == "ln" || name == "link" {
            let symbolic = args.iter().any(|a| {
                a.text == "-s"
                    || a.text == "--symbolic"
                    || (a.text.starts_with('-')
                        && !a.text.starts_with("--")
                        && a.text.contains('s'))
            });
            if let Some(d) = &dest {
                self.write(d, env);
            }
            if !symbolic {
                for s in &srcs {
                    self.read(s, env);
                }
            } else {
                // A symlink to a secret or system path is an attempt to reach it.
                for s in &srcs {
                    self.read(s, env);
                }
            }
            return;
        }
        let remote_dest = dest.as_ref().and_then(|d| remote_host(&d.text));
        for s in &srcs {
            if remote_host(&s.text).is_some() {
                continue;
            }
            self.read(s, env);
            if let Some(h) = &remote_dest
                && let Some(p) = self.path_of(s, env)
            {
                self.push(Op::Upload {
                    path: p,
                    host: h.clone(),
                    via: name.to_string(),
                });
            }
            if name == "mv" {
                let recursive = true;
                self.delete(s, env, recursive);
            }
        }
        if let Some(d) = &dest
            && remote_host(&d.text).is_none()
        {
            self.write(d, env);
            if name == "rsync" && args.iter().any(|a| a.text.starts_with("--delete")) {
                self.delete(d, env, true);
            }
        }
    }

    fn sed(&mut self, args: &[Val], env: &Env) {
        let in_place = args.iter().any(|a| {
            a.text.starts_with("-i")
                || a.text.starts_with("--in-place")
                || (a.text.starts_with('-') && !a.text.starts_with("--") && a.text.contains('i'))
        });
        let mut scripts: Vec<Val> = Vec::new();
        let mut has_script_opt = false;
        for w in args.windows(2) {
            match w[0].text.as_str() {
                "-e" | "--expression" => {
                    scripts.push(w[1].clone());
                    has_script_opt = true;
                }
                "-f" | "--file" => {
                    has_script_opt = true;
                    self.read(&w[1], env);
                    self.opaque("sed runs a script file");
                }
                _ => {}
            }
        }
        let ops = operands(args, "e,f,l,expression,file,line-length,s");
        let files: Vec<&Val> = if has_script_opt {
            ops
        } else {
            if let Some(s) = ops.first() {
                scripts.push((*s).clone());
            }
            ops.into_iter().skip(1).collect()
        };
        for s in &scripts {
            if !s.known {
                self.opaque("sed script is computed");
                continue;
            }
            self.sed_script(&s.text, env);
        }
        for f in files {
            self.read(f, env);
            if in_place {
                self.write(f, env);
            }
        }
    }

    /// Look for sed commands that run programs (`e`, `s///e`) or write files (`w`).
    fn sed_script(&mut self, script: &str, env: &Env) {
        let b = script.as_bytes();
        let mut i = 0;
        while i < b.len() {
            // Skip separators and addresses.
            while i < b.len()
                && (b[i].is_ascii_whitespace()
                    || b[i] == b';'
                    || b[i] == b'{'
                    || b[i] == b'}'
                    || b[i] == b'!')
            {
                i += 1;
            }
            while i < b.len()
                && (b[i].is_ascii_digit()
                    || b[i] == b'$'
                    || b[i] == b','
                    || b[i] == b'~'
                    || b[i] == b'+')
            {
                i += 1;
            }
            if i < b.len() && (b[i] == b'/' || b[i] == b'\\') {
                let d = if b[i] == b'\\' {
                    i += 1;
                    *b.get(i).unwrap_or(&b'/')
                } else {
                    b'/'
                };
                i += 1;
                while i < b.len() && b[i] != d {
                    if b[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
                i += 1;
                // A second address after a comma.
                continue;
            }
            if i >= b.len() {
                break;
            }
            let cmd = b[i];
            i += 1;
            match cmd {
                b's' | b'y' => {
                    let Some(&d) = b.get(i) else { break };
                    i += 1;
                    for _ in 0..2 {
                        while i < b.len() && b[i] != d {
                            if b[i] == b'\\' {
                                i += 1;
                            }
                            i += 1;
                        }
                        i += 1;
                    }
                    if cmd == b's' {
                        let st = i.min(b.len());
                        while i < b.len() && !matches!(b[i], b';' | b'\n' | b'}') {
                            if b[i] == b'w' {
                                let file = script[i + 1..]
                                    .split(['\n', ';'])
                                    .next()
                                    .unwrap_or("")
                                    .trim();
                                self.write(&Val::literal(file), env);
                                i = b.len();
                                break;
                            }
                            i += 1;
                        }
                        if script[st..i.min(b.len())].contains('e') {
                            self.opaque("sed s///e runs the pattern space as a command");
                        }
                    }
                }
                b'e' => {
                    let code = script[i..].split('\n').next().unwrap_or("").trim();
                    if code.is_empty() {
                        self.opaque("sed e runs the pattern space as a command");
                    } else {
                        self.nested_code(Lang::Sh, &Val::literal(code), env, "sed e");
                    }
                    i += code.len() + 1;
                }
                b'w' | b'W' | b'r' | b'R' => {
                    let file = script[i..].split('\n').next().unwrap_or("").trim();
                    if !file.is_empty() {
                        if cmd == b'w' || cmd == b'W' {
                            self.write(&Val::literal(file), env);
                        } else {
                            self.read(&Val::literal(file), env);
                        }
                    }
                    i += file.len() + 1;
                }
                b'a' | b'i' | b'c' => {
                    // Text to the end of the line.
                    while i < b.len() && b[i] != b'\n' {
                        i += 1;
                    }
                }
                b'b' | b't' | b'T' | b':' => {
                    while i < b.len() && !matches!(b[i], b';' | b'\n') {
                        i += 1;
                    }
                }
                _ => {}
            }
        }
    }

    fn awk(&mut self, args: &[Val], env: &Env) {
        let mut has_f = false;
        for w in args.windows(2) {
            if w[0].text == "-f" {
                has_f = true;
                self.project_script(&w[1], env, "awk");
            }
        }
        let ops = operands(args, "F,v,f,field-separator,assign,file");
        let (prog, files): (Option<&Val>, Vec<&Val>) = if has_f {
            (None, ops)
        } else {
            let mut it = ops.into_iter();
            (it.next(), it.collect())
        };
        if let Some(p) = prog {
            if !p.known {
                self.opaque("awk program is computed");
            } else {
                let t = &p.text;
                if t.contains("system(") || t.contains("system (") {
                    match awk_system_arg(t) {
                        Some(code) => {
                            self.nested_code(Lang::Sh, &Val::literal(&code), env, "awk system()")
                        }
                        None => self.opaque("awk system() with a computed command"),
                    }
                }
                if awk_has_command_pipe(t) {
                    self.opaque("awk pipes to or from a command");
                }
                for f in awk_output_files(t) {
                    self.write(&Val::literal(&f), env);
                }
                for f in awk_input_files(t) {
                    // `getline < var`: a file named at run time.
                    let v = if f == "$?" {
                        Val::unknown("")
                    } else {
                        Val::literal(&f)
                    };
                    self.read(&v, env);
                }
            }
        }
        for f in files {
            if f.text.contains('=') && !f.text.contains('/') {
                continue;
            }
            self.read(f, env);
        }
    }

    fn find(&mut self, args: &[Val], env: &mut Env) {
        let mut roots: Vec<Val> = Vec::new();
        let mut i = 0;
        while i < args.len()
            && (!args[i].text.starts_with('-')
                || matches!(args[i].text.as_str(), "-H" | "-L" | "-P"))
            && args[i].text != "("
            && args[i].text != "!"
        {
            if !args[i].text.starts_with('-') {
                roots.push(args[i].clone());
            }
            i += 1;
        }
        if roots.is_empty() {
            roots.push(Val::literal("."));
        }
        for r in &roots {
            self.read(r, env);
        }
        // What `{}` stands for: something below the roots.
        let under = |r: &Val| -> Val {
            let mut v = Val::unknown(&format!("{}/{{}}", r.text.trim_end_matches('/')));
            v.known_prefix = if r.known {
                r.text.trim_end_matches('/').len() + 1
            } else {
                0
            };
            v
        };
        let mut recursive_delete_done = false;
        while i < args.len() {
            let t = args[i].text.as_str();
            match t {
                "-exec" | "-execdir" | "-ok" | "-okdir" => {
                    let end = args[i + 1..]
                        .iter()
                        .position(|a| a.text == ";" || a.text == "+")
                        .map(|p| i + 1 + p)
                        .unwrap_or(args.len());
                    let cmd: Vec<Val> = args[i + 1..end].to_vec();
                    for r in roots.clone() {
                        let sub: Vec<Val> = cmd
                            .iter()
                            .map(|a| {
                                if a.text == "{}" {
                                    under(&r)
                                } else if a.text.contains("{}") {
                                    Val::unknown(&a.text)
                                } else {
                                    a.clone()
                                }
                            })
                            .collect();
                        if !sub.is_empty() {
                            let mut e = env.clone();
                            self.exec(sub, &mut e, Stdin::Inherited, false);
                        }
                    }
                    i = end + 1;
                }
                "-delete" => {
                    if !recursive_delete_done {
                        for r in roots.clone() {
                            let v = under(&r);
                            self.delete(&v, env, false);
                        }
                        recursive_delete_done = true;
                    }
                    i += 1;
                }
                "-fprint" | "-fprint0" | "-fprintf" | "-fls" => {
                    if let Some(f) = args.get(i + 1) {
                        self.write(&f.clone(), env);
                    }
                    i += 2;
                }
                _ => i += 1,
            }
        }
    }

    fn tar(&mut self, args: &[Val], env: &mut Env) {
        for a in args {
            let t = a.text.as_str();
            if let Some(cmd) = t.strip_prefix("--to-command=") {
                self.nested_code(Lang::Sh, &sub_val(a, cmd), env, "tar --to-command");
            }
            if let Some(act) = t.strip_prefix("--checkpoint-action=")
                && let Some(cmd) = act.strip_prefix("exec=")
            {
                self.nested_code(Lang::Sh, &sub_val(a, cmd), env, "tar --checkpoint-action");
            }
            if let Some(cmd) = t
                .strip_prefix("--use-compress-program=")
                .or_else(|| t.strip_prefix("--info-script="))
                .or_else(|| t.strip_prefix("--new-volume-script="))
            {
                self.nested_code(Lang::Sh, &sub_val(a, cmd), env, "tar");
            }
            if let Some(cmd) = t.strip_prefix("--rsh-command=") {
                self.nested_code(Lang::Sh, &sub_val(a, cmd), env, "tar");
            }
        }
        for w in args.windows(2) {
            if matches!(
                w[0].text.as_str(),
                "-I" | "--use-compress-program" | "--to-command" | "-F" | "--info-script"
            ) {
                self.nested_code(Lang::Sh, &w[1], env, "tar");
            }
        }
        // Mode letters: the first argument may be a bundle without a dash (`tar xzf`).
        let first = args
            .first()
            .map(|a| a.text.trim_start_matches('-').to_string())
            .unwrap_or_default();
        let bundle_ok = args.first().is_some_and(|a| !a.text.starts_with("--"));
        let has = |c: char, long: &str| {
            (bundle_ok && first.contains(c) && first.chars().all(|ch| ch.is_ascii_alphabetic()))
                || args.iter().any(|a| {
                    a.text == long
                        || (a.text.starts_with('-')
                            && !a.text.starts_with("--")
                            && a.text.contains(c)
                            && a.text.len() <= 6)
                })
        };
        let create = has('c', "--create") || has('r', "--append") || has('u', "--update");
        let extract = has('x', "--extract") || has('x', "--get");
        let mut archive: Option<Val> = None;
        let mut dir: Option<Val> = None;
        for (k, a) in args.iter().enumerate() {
            if let Some(f) = a.text.strip_prefix("--file=") {
                archive = Some(sub_val(a, f));
            } else if a.text == "-f"
                || a.text == "--file"
                || (k == 0 && bundle_ok && first.ends_with('f'))
                || (a.text.starts_with('-')
                    && !a.text.starts_with("--")
                    && a.text.ends_with('f')
                    && a.text.len() <= 6)
            {
                archive = args.get(k + 1).cloned();
            }
            if a.text == "-C" || a.text == "--directory" {
                dir = args.get(k + 1).cloned();
            } else if let Some(d) = a.text.strip_prefix("--directory=") {
                dir = Some(sub_val(a, d));
            }
        }
        let mut skip: Vec<String> = Vec::new();
        if let Some(a) = &archive {
            skip.push(a.text.clone());
        }
        if let Some(d) = &dir {
            skip.push(d.text.clone());
        }
        let members: Vec<Val> = args
            .iter()
            .skip(usize::from(bundle_ok && !args[0].text.starts_with('-')))
            .filter(|a| !a.text.starts_with('-') && !skip.contains(&a.text))
            .cloned()
            .collect();
        if create {
            if let Some(a) = &archive {
                self.write(a, env);
            }
            for m in &members {
                self.read(m, env);
            }
        } else if extract {
            if let Some(a) = &archive {
                self.read(a, env);
            }
            let base = match &dir {
                Some(d) => d.clone(),
                None => Val::literal(&self.cwd_or_root(env)),
            };
            let mut g = base.clone();
            g.text = format!("{}/*", base.text.trim_end_matches('/'));
            g.glob = true;
            if base.known {
                self.write(&g, env);
            } else {
                self.write(&base, env);
            }
        } else if let Some(a) = &archive {
            self.read(a, env);
        }
    }

    fn sqlite3(&mut self, args: &[Val], env: &Env, stdin: &Stdin) {
        let mut ops: Vec<&Val> = Vec::new();
        let mut cmds: Vec<Val> = Vec::new();
        let mut i = 0;
        while i < args.len() {
            let t = args[i].text.as_str();
            if t == "-cmd" {
                if let Some(c) = args.get(i + 1) {
                    cmds.push(c.clone());
                }
                i += 2;
                continue;
            }
            if matches!(
                t,
                "-separator"
                    | "-newline"
                    | "-nullvalue"
                    | "-init"
                    | "-vfs"
                    | "-maxsize"
                    | "-pagecache"
                    | "-lookaside"
                    | "-mmap"
                    | "-heap"
            ) {
                if t == "-init" {
                    self.opaque("sqlite3 -init runs a file of commands");
                }
                i += 2;
                continue;
            }
            if !t.starts_with('-') {
                ops.push(&args[i]);
            }
            i += 1;
        }
        let db = ops.first().map(|d| {
            if d.text == ":memory:" || d.text.is_empty() {
                "memory".to_string()
            } else {
                if !d.known {
                    return "?".to_string();
                }
                db_name_from_file(&d.text)
            }
        });
        if let Some(d) = ops.first()
            && d.text != ":memory:"
        {
            self.read(d, env);
        }
        let db = db.unwrap_or_else(|| "memory".to_string());
        for c in cmds {
            self.sql_text(&c, Some(&db), env);
        }
        if ops.len() > 1 {
            for s in &ops[1..] {
                let s = (*s).clone();
                self.sql_text(&s, Some(&db), env);
            }
        } else {
            self.sql_stdin(stdin, Some(&db), env, "sqlite3");
        }
    }

    fn sql_text(&mut self, v: &Val, db: Option<&str>, env: &Env) {
        if v.known {
            let cwd = self.cwd_or_root(env);
            self.c.nested(Lang::Sql, &v.text, &cwd, db);
        } else {
            self.opaque(format!("SQL text is computed: {}", clip(&v.text)));
        }
    }

    fn sql_stdin(&mut self, stdin: &Stdin, db: Option<&str>, env: &Env, prog: &str) {
        match stdin {
            Stdin::Text(t) => {
                let cwd = self.cwd_or_root(env);
                self.c.nested(Lang::Sql, t, &cwd, db);
            }
            Stdin::File(p) => self.c.script(p.clone(), Lang::Sql),
            Stdin::Computed(w) => self.opaque(format!("{} piped into {prog}", clip(w))),
            Stdin::Inherited => {}
        }
    }

    fn sql_client(&mut self, name: &str, args: &[Val], env: &Env, stdin: &Stdin) {
        let mut db: Option<String> = None;
        let mut host: Option<String> = None;
        let mut codes: Vec<Val> = Vec::new();
        let mut files: Vec<Val> = Vec::new();
        let mut positional: Vec<Val> = Vec::new();
        let value_flags = [
            "-d",
            "--dbname",
            "-D",
            "--database",
            "-h",
            "--host",
            "-U",
            "--username",
            "-u",
            "--user",
            "-p",
            "--port",
            "-P",
            "-c",
            "--command",
            "-e",
            "--execute",
            "-f",
            "--file",
            "-o",
            "--output",
            "-v",
            "--set",
            "--variable",
            "-L",
            "--log-file",
            "-T",
            "-F",
            "-R",
            "--config",
            "--defaults-file",
            "-S",
            "--socket",
        ];
        let mut i = 0;
        while i < args.len() {
            let a = &args[i];
            let t = a.text.as_str();
            let (flag, inline): (&str, Option<Val>) = match t.split_once('=') {
                Some((f, v)) if f.starts_with("--") => (f, Some(sub_val(a, v))),
                _ => (t, None),
            };
            let take = |i: &mut usize| -> Option<Val> {
                if let Some(v) = inline.clone() {
                    Some(v)
                } else {
                    *i += 1;
                    args.get(*i).cloned()
                }
            };
            if value_flags.contains(&flag) {
                let v = take(&mut i);
                if let Some(v) = v {
                    match flag {
                        "-d" | "--dbname" | "-D" | "--database" => db = Some(conn_db(&v.text)),
                        "-h" | "--host" => host = Some(v.text.clone()),
                        "-c" | "--command" | "-e" | "--execute" => codes.push(v),
                        "-f" | "--file" => files.push(v),
                        "-o" | "--output" => {
                            if let Some(pipe) = v.text.strip_prefix('|') {
                                self.nested_code(Lang::Sh, &Val::literal(pipe), env, name);
                            } else {
                                self.write(&v, env);
                            }
                        }
                        _ => {}
                    }
                }
                i += 1;
                continue;
            }
            if (t.starts_with("-c") || t.starts_with("-e"))
                && t.len() > 2
                && !t.starts_with("--")
                && name != "mysql"
            {
                codes.push(sub_val(a, &t[2..]));
            } else if t.starts_with("-d") && t.len() > 2 && !t.starts_with("--") {
                db = Some(conn_db(&t[2..]));
            } else if !t.starts_with('-') {
                positional.push(a.clone());
            }
            i += 1;
        }
        for p in &positional {
            if p.text.contains("://") || p.text.contains("dbname=") || p.text.contains("host=") {
                if let Some(h) = url_host(&p.text).or_else(|| kv_get(&p.text, "host")) {
                    host = Some(h);
                }
                db = Some(conn_db(&p.text));
            } else if db.is_none() {
                db = Some(p.text.clone());
            }
        }
        if let Some(h) = &host
            && !is_loopback(h)
            && !h.starts_with('/')
        {
            self.network(h, None, name);
        }
        let db = db.as_deref().map(|d| d.to_ascii_lowercase());
        for code in &codes {
            self.sql_text(code, db.as_deref(), env);
        }
        for f in &files {
            if f.known {
                let cwd = self.cwd_or_root(env);
                let p = paths::resolve(&cwd, &f.text);
                self.read(f, env);
                self.c.script(p, Lang::Sql);
            } else {
                self.opaque(format!("{name} runs a computed SQL file"));
            }
        }
        if codes.is_empty() && files.is_empty() {
            match stdin {
                Stdin::Inherited => self.opaque(format!("{name} opens an interactive session")),
                s => self.sql_stdin(s, db.as_deref(), env, name),
            }
        }
    }

    fn redis(&mut self, args: &[Val], _env: &Env) {
        let ops = operands(args, "h,p,a,n,u,r,i,d,user,pass,tls,cacert,cert,key");
        let host = args
            .windows(2)
            .find(|w| w[0].text == "-h")
            .map(|w| w[1].text.clone());
        if let Some(h) = host
            && !is_loopback(&h)
        {
            self.network(&h, None, "redis-cli");
        }
        let Some(cmd) = ops.first() else {
            self.opaque("redis-cli opens an interactive session");
            return;
        };
        let verb = cmd.text.to_ascii_uppercase();
        let kind = match verb.as_str() {
            "GET" | "MGET" | "KEYS" | "SCAN" | "INFO" | "PING" | "TTL" | "TYPE" | "EXISTS"
            | "HGET" | "HGETALL" | "LRANGE" | "SMEMBERS" | "DBSIZE" | "LLEN" | "STRLEN"
            | "ZRANGE" | "SCARD" | "HKEYS" | "MONITOR" | "SLOWLOG" | "CLIENT" | "MEMORY"
            | "LATENCY" | "TIME" | "ECHO" => crate::SqlKind::Read,
            "SET" | "MSET" | "HSET" | "LPUSH" | "RPUSH" | "SADD" | "ZADD" | "INCR" | "DECR"
            | "EXPIRE" | "HDEL" | "LPOP" | "RPOP" | "SREM" | "ZREM" | "APPEND" | "SETEX"
            | "PUBLISH" => crate::SqlKind::Dml,
            "DEL" | "UNLINK" | "FLUSHALL" | "FLUSHDB" | "RENAME" => crate::SqlKind::Ddl,
            _ => crate::SqlKind::Admin,
        };
        let dangers = match verb.as_str() {
            "EVAL" | "EVALSHA" | "SCRIPT" | "MODULE" | "FUNCTION" => {
                vec!["redis_script".to_string()]
            }
            "CONFIG" | "SLAVEOF" | "REPLICAOF" | "SHUTDOWN" | "DEBUG" | "MIGRATE" => {
                vec!["redis_admin".to_string()]
            }
            _ => vec![],
        };
        let destructive = matches!(verb.as_str(), "FLUSHALL" | "FLUSHDB" | "DEL" | "UNLINK");
        self.push(Op::Sql(crate::SqlOp {
            kind,
            verb: format!("REDIS {verb}"),
            objects: ops
                .iter()
                .skip(1)
                .take(4)
                .map(|o| o.text.to_ascii_lowercase())
                .collect(),
            database: Some("redis".into()),
            has_where: !matches!(verb.as_str(), "FLUSHALL" | "FLUSHDB"),
            where_tautological: matches!(verb.as_str(), "FLUSHALL" | "FLUSHDB"),
            dangers: if destructive && dangers.is_empty() {
                vec![]
            } else {
                dangers
            },
        }));
    }

    fn http_client(&mut self, name: &str, args: &[Val], env: &Env) {
        let mut urls = 0;
        let mut uploads: Vec<Val> = Vec::new();
        let mut hosts: Vec<String> = Vec::new();
        let mut i = 0;
        let value_flags_read = [
            "-d",
            "--data",
            "--data-binary",
            "--data-raw",
            "--data-urlencode",
            "-F",
            "--form",
            "-T",
            "--upload-file",
            "--post-file",
            "--body-file",
            "-K",
            "--config",
            "--cert",
            "--key",
            "--cacert",
            "-b",
            "--cookie",
            "--netrc-file",
            "-i",
            "--input-file",
        ];
        let value_flags_write = [
            "-o",
            "--output",
            "-O",
            "--output-document",
            "-c",
            "--cookie-jar",
            "-D",
            "--dump-header",
            "--trace",
            "--trace-ascii",
            "-P",
            "--directory-prefix",
            "--stderr",
            "-a",
            "--append-output",
            "--output-file",
        ];
        let value_flags_other = [
            "-H",
            "--header",
            "-X",
            "--request",
            "-u",
            "--user",
            "-A",
            "--user-agent",
            "-e",
            "--referer",
            "-m",
            "--max-time",
            "--connect-timeout",
            "-w",
            "--write-out",
            "-x",
            "--proxy",
            "--retry",
            "--limit-rate",
            "-r",
            "--range",
            "--resolve",
            "-U",
            "--proxy-user",
            "--header",
            "--tries",
            "-t",
            "-T",
            "--timeout",
            "--user",
            "--password",
            "-Y",
        ];
        while i < args.len() {
            let a = &args[i];
            let t = a.text.as_str();
            let (flag, inline) = match t.split_once('=') {
                Some((f, v)) if f.starts_with("--") => (f, Some(sub_val(a, v))),
                _ => (t, None),
            };
            let is_wget = name == "wget";
            // wget uses -O for output and -T for timeout; curl -O means "remote name".
            let reads = value_flags_read.contains(&flag)
                && !(is_wget && matches!(flag, "-T" | "-i" | "-a" | "-d"))
                || (is_wget && flag == "-i");
            let writes = value_flags_write.contains(&flag)
                && !(name == "curl" && matches!(flag, "-O" | "-P" | "-a"));
            if reads || writes || value_flags_other.contains(&flag) {
                let v = match inline {
                    Some(v) => Some(v),
                    None => {
                        i += 1;
                        args.get(i).cloned()
                    }
                };
                if let Some(v) = v {
                    if reads {
                        // `-d @file` and `-F field=@file` send a file.
                        if let Some(f) = v.text.strip_prefix('@') {
                            if f != "-" {
                                self.read(&sub_val(&v, f), env);
                                uploads.push(sub_val(&v, f));
                            }
                        } else if let Some(pos) = v.text.find("=@").or_else(|| v.text.find("=<")) {
                            let f = v.text[pos + 2..].split(';').next().unwrap_or("");
                            self.read(&sub_val(&v, f), env);
                            uploads.push(sub_val(&v, f));
                        } else if matches!(
                            flag,
                            "-T" | "--upload-file" | "--post-file" | "--body-file"
                        ) {
                            self.read(&v, env);
                            uploads.push(v.clone());
                        } else if matches!(
                            flag,
                            "-K" | "--config" | "--netrc-file" | "-i" | "--input-file"
                        ) {
                            self.read(&v, env);
                        }
                    } else if writes && v.text != "-" {
                        self.write(&v, env);
                    }
                }
                i += 1;
                continue;
            }
            if !t.starts_with('-') {
                if let Some((h, p)) = url_host_port(&a.text) {
                    urls += 1;
                    hosts.push(h.clone());
                    self.network(&h, p, name);
                    if name == "curl" && a.text.starts_with("file://") {
                        self.read(&Val::literal(&a.text[7..]), env);
                    }
                } else if !a.known {
                    urls += 1;
                    self.network("?", None, name);
                } else if !a.text.is_empty()
                    && (name != "http" && name != "https" && name != "xh"
                        || a.text.contains('.')
                        || a.text.contains(':'))
                {
                    // A bare host (`curl example.com`).
                    let hostpart = a.text.split('/').next().unwrap_or("");
                    if !hostpart.is_empty() && !a.text.contains('=') {
                        urls += 1;
                        let (h, p) = split_host_port(hostpart);
                        self.network(&h, p, name);
                    }
                }
            } else if ((name == "wget" && t.starts_with("-O"))
                || (name == "curl" && t.starts_with("-o")))
                && t.len() > 2
            {
                // `-Ofile` / `-ofile`: the output file glued to the flag.
                self.write(&sub_val(a, &t[2..]), env);
            }
            i += 1;
        }
        let saves_remote_name = args.iter().any(|a| {
            a.text == "-O"
                || a.text == "--remote-name"
                || a.text == "--remote-name-all"
                || (a.text.starts_with('-')
                    && !a.text.starts_with("--")
                    && a.text.contains('O')
                    && name == "curl")
        });
        if (name == "wget"
            && !args
                .iter()
                .any(|a| a.text.starts_with("-O") || a.text == "--spider" || a.text == "-q0"))
            || saves_remote_name
        {
            self.write_cwd(env);
        }
        let _ = urls;
        let host = hosts.first().cloned().unwrap_or_else(|| "?".into());
        for f in uploads {
            if let Some(p) = self.path_of(&f, env) {
                self.push(Op::Upload {
                    path: p,
                    host: host.clone(),
                    via: name.to_string(),
                });
            }
        }
    }

    fn net_tool(&mut self, name: &str, args: &[Val], env: &Env, stdin: &Stdin) {
        let info_only = args.iter().all(|a| {
            matches!(
                a.text.as_str(),
                "-V" | "--version" | "-h" | "--help" | "version" | "-v"
            )
        });
        if info_only && !args.is_empty() {
            return;
        }
        match name {
            "ssh" | "autossh" | "mosh" | "ssh-copy-id" | "sshpass" => {
                for a in args {
                    if a.text.contains("ProxyCommand")
                        || a.text.contains("LocalCommand")
                        || a.text.contains("PermitLocalCommand")
                    {
                        self.opaque(format!("{name} -o {} runs a local command", clip(&a.text)));
                    }
                }
                let value = "b,c,D,E,e,F,I,i,J,L,l,m,O,o,p,Q,R,S,W,w,B,f,P";
                let ops = operands(args, value);
                if name == "sshpass" {
                    let rest: Vec<Val> = ops.iter().map(|v| (*v).clone()).collect();
                    if !rest.is_empty() {
                        let mut e = env.clone();
                        self.exec(rest, &mut e, Stdin::Inherited, false);
                    }
                    return;
                }
                if let Some(h) = ops.first() {
                    let port = args
                        .windows(2)
                        .find(|w| w[0].text == "-p")
                        .and_then(|w| w[1].text.parse().ok());
                    self.network(&host_of_userhost(&h.text), port.or(Some(22)), name);
                } else if !args.iter().any(|a| a.text == "-V") {
                    self.opaque(format!("{name} with no host"));
                }
                if ops.len() > 1 {
                    // The remote command runs on the other host.
                    let rc = join(&ops[1..].iter().map(|v| (*v).clone()).collect::<Vec<_>>());
                    self.push(Op::Exec {
                        program: format!("{name} remote command"),
                        argv: vec![rc.text],
                        kind: ProgramKind::External,
                    });
                }
                if let Some(w) = args.windows(2).find(|w| w[0].text == "-i") {
                    self.read(&w[1], env);
                }
            }
            "openssl" => {
                let sub = args.first().map(|a| a.text.as_str()).unwrap_or("");
                match sub {
                    "s_client" | "s_server" => {
                        let host = args
                            .windows(2)
                            .find(|w| w[0].text == "-connect")
                            .map(|w| w[1].text.clone());
                        match host {
                            Some(h) => {
                                let (h, p) = split_host_port(&h);
                                self.network(&h, p, "openssl s_client");
                            }
                            None => self.network("?", None, "openssl"),
                        }
                    }
                    _ => {
                        for w in args.windows(2) {
                            match w[0].text.as_str() {
                                "-in" | "-inkey" | "-key" | "-CAfile" | "-kfile" | "-passin" => {
                                    self.read(&w[1], env)
                                }
                                "-out" | "-keyout" => self.write(&w[1], env),
                                _ => {}
                            }
                        }
                    }
                }
            }
            "ping" | "ping6" | "traceroute" | "tracepath" | "mtr" | "dig" | "nslookup" | "host"
            | "whois" | "arping" | "hping3" | "nmap" | "masscan" | "zmap" | "snmpwalk"
            | "ldapsearch" | "smbclient" | "ftp" | "tftp" | "telnet" | "iperf" | "iperf3" => {
                let ops = operands(args, "c,i,w,W,t,p,s,I,m,q,f,b,x,y,H,D,U,P,T");
                let h = ops
                    .iter()
                    .rev()
                    .find(|v| {
                        !v.text.starts_with('@') && v.text.contains(['.', ':'])
                            || v.text == "localhost"
                    })
                    .or(ops.first());
                match h {
                    Some(h) => {
                        let (host, port) = split_host_port(&h.text);
                        self.network(&host, port, name)
                    }
                    None => self.network("?", None, name),
                }
            }
            "tcpdump" | "tshark" => self.push(Op::Privilege {
                how: format!("{name} captures network traffic"),
            }),
            _ => {
                // nc / ncat / socat: host and port operands; `-e`/`-c`/EXEC run commands.
                for w in args.windows(2) {
                    if matches!(
                        w[0].text.as_str(),
                        "-e" | "-c" | "--exec" | "--sh-exec" | "--lua-exec"
                    ) {
                        self.nested_code(Lang::Sh, &w[1], env, name);
                    }
                }
                for a in args {
                    let up = a.text.to_ascii_uppercase();
                    if up.starts_with("EXEC:") || up.starts_with("SYSTEM:") {
                        let code = &a.text[a.text.find(':').map(|k| k + 1).unwrap_or(0)..];
                        let code = code.split(',').next().unwrap_or("");
                        self.nested_code(Lang::Sh, &sub_val(a, code), env, name);
                    }
                    if let Some(rest) = up
                        .strip_prefix("TCP:")
                        .or_else(|| up.strip_prefix("TCP4:"))
                        .or_else(|| up.strip_prefix("UDP:"))
                        .or_else(|| up.strip_prefix("OPENSSL:"))
                    {
                        let hp = rest.split(',').next().unwrap_or("").to_ascii_lowercase();
                        let (h, p) = split_host_port(&hp);
                        self.network(&h, p, name);
                    }
                    if up.starts_with("TCP-LISTEN:") || up.starts_with("UDP-LISTEN:") {
                        self.network(
                            "0.0.0.0",
                            up.split(':')
                                .nth(1)
                                .and_then(|p| p.split(',').next())
                                .and_then(|p| p.parse().ok()),
                            name,
                        );
                    }
                    if let Some(f) = a
                        .text
                        .strip_prefix("FILE:")
                        .or_else(|| a.text.strip_prefix("OPEN:"))
                        .or_else(|| a.text.strip_prefix("CREATE:"))
                    {
                        self.write(&sub_val(a, f.split(',').next().unwrap_or("")), env);
                    }
                }
                if name != "socat" {
                    let listen = args.iter().any(|a| {
                        a.text.starts_with('-') && !a.text.starts_with("--") && a.text.contains('l')
                            || a.text == "--listen"
                    });
                    let ops = operands(
                        args,
                        "e,c,p,s,w,i,q,x,X,P,g,G,o,O,T,I,sh-exec,exec,lua-exec,source,wait,proxy",
                    );
                    if listen {
                        self.network(
                            "0.0.0.0",
                            ops.last().and_then(|p| p.text.parse().ok()),
                            name,
                        );
                    } else {
                        let host = ops
                            .first()
                            .map(|h| h.text.clone())
                            .unwrap_or_else(|| "?".into());
                        let port = ops.get(1).and_then(|p| p.text.parse().ok());
                        self.network(&host, port, name);
                    }
                }
            }
        }
        let _ = stdin;
    }

    fn git(&mut self, args: &[Val], env: &mut Env) {
        // Global options before the subcommand.
        let mut i = 0;
        while i < args.len() {
            let t = args[i].text.as_str();
            match t {
                "-c" => {
                    if let Some(kv) = args.get(i + 1) {
                        self.git_config_value(&kv.text, kv.known, env);
                    }
                    i += 2;
                }
                "-C" => {
                    if let Some(d) = args.get(i + 1) {
                        env.cwd = if d.known {
                            Some(paths::resolve(&self.cwd_or_root(env), &d.text))
                        } else {
                            None
                        };
                    }
                    i += 2;
                }
                "--git-dir" | "--work-tree" | "--namespace" | "--exec-path" | "--config-env" => {
                    if t == "--exec-path" || t == "--config-env" {
                        self.opaque(format!("git {t} changes what git runs"));
                    }
                    i += 2;
                }
                _ if t.starts_with("--exec-path=") || t.starts_with("--config-env=") => {
                    self.opaque("git --exec-path changes what git runs");
                    i += 1;
                }
                _ if t.starts_with('-') => i += 1,
                _ => break,
            }
        }
        let Some(sub) = args.get(i) else { return };
        let rest = &args[i + 1..];
        match sub.text.as_str() {
            "clone" | "fetch" | "pull" | "push" | "ls-remote" | "submodule" | "remote"
            | "archive" | "request-pull" | "send-email" | "svn" | "p4" => {
                let is_net = match sub.text.as_str() {
                    "submodule" => rest
                        .iter()
                        .any(|a| matches!(a.text.as_str(), "update" | "add" | "sync" | "init")),
                    "remote" => {
                        rest.iter().any(|a| {
                            matches!(a.text.as_str(), "update" | "prune" | "show" | "set-head")
                        }) && !rest.iter().any(|a| a.text == "-n")
                    }
                    "archive" => rest.iter().any(|a| a.text.starts_with("--remote")),
                    _ => true,
                };
                if is_net {
                    let host = rest.iter().find_map(|a| {
                        url_host_port(&a.text)
                            .map(|(h, _)| h)
                            .or_else(|| remote_host(&a.text))
                    });
                    self.network(
                        host.as_deref().unwrap_or("git-remote"),
                        None,
                        &format!("git {}", sub.text),
                    );
                }
                if sub.text == "clone" {
                    let ops = operands(
                        rest,
                        "b,o,c,depth,branch,origin,config,reference,template,u,upload-pack,j,jobs,filter,separate-git-dir",
                    );
                    match ops.get(1) {
                        Some(d) => self.write(d, env),
                        None => self.write_cwd(env),
                    }
                    if rest.iter().any(|a| {
                        a.text.starts_with("--template")
                            || a.text.starts_with("-u")
                            || a.text.starts_with("--upload-pack")
                    }) {
                        self.opaque("git clone option that runs a program");
                    }
                }
                if matches!(sub.text.as_str(), "fetch" | "pull" | "push" | "ls-remote")
                    && rest.iter().any(|a| {
                        a.text.starts_with("--upload-pack")
                            || a.text.starts_with("--receive-pack")
                            || a.text.starts_with("--exec")
                    })
                {
                    self.opaque("git option that runs a program");
                }
            }
            "config" => {
                let ops = operands(rest, "f,file,blob,type,default");
                let setting = !rest.iter().any(|a| {
                    matches!(
                        a.text.as_str(),
                        "--get" | "--get-all" | "--list" | "-l" | "--get-regexp" | "--show-origin"
                    )
                });
                if ops.len() >= 2 && setting {
                    let kv = format!("{}={}", ops[0].text, ops[1].text);
                    self.git_config_value(&kv, ops[1].known, env);
                    if rest
                        .iter()
                        .any(|a| a.text == "--global" || a.text == "--system")
                    {
                        let home = self.c.ctx.home.clone();
                        self.write(&Val::literal(&format!("{home}/.gitconfig")), env);
                    } else {
                        self.write(&Val::literal(".git/config"), env);
                    }
                }
            }
            "filter-branch" | "filter-repo" => {
                self.opaque("git filter-branch rewrites history and runs commands")
            }
            "bisect" if rest.first().is_some_and(|a| a.text == "run") => {
                let cmd: Vec<Val> = rest[1..].to_vec();
                if !cmd.is_empty() {
                    self.exec(cmd, env, Stdin::Inherited, false);
                }
            }
            "rebase"
                if rest
                    .iter()
                    .any(|a| a.text == "-x" || a.text.starts_with("--exec")) =>
            {
                for w in rest.windows(2) {
                    if w[0].text == "-x" || w[0].text == "--exec" {
                        self.nested_code(Lang::Sh, &w[1], env, "git rebase --exec");
                    }
                }
            }
            "apply" | "am" => {
                for v in operands(rest, "p,C,directory") {
                    self.read(v, env);
                }
            }
            "diff" | "log" | "show" | "status" | "blame" | "grep" | "ls-files" | "rev-parse"
            | "branch" | "tag" | "describe" | "shortlog" | "reflog" | "stash" | "add"
            | "commit" | "checkout" | "switch" | "restore" | "reset" | "clean" | "merge"
            | "rebase" | "cherry-pick" | "revert" | "mv" | "rm" | "init" | "worktree" | "gc"
            | "fsck" | "notes" | "show-ref" | "cat-file" | "rev-list" | "for-each-ref"
            | "whatchanged" | "version" | "help" | "count-objects" | "name-rev" | "merge-base"
            | "cherry" | "range-diff" | "format-patch" | "bundle" | "sparse-checkout"
            | "update-index" | "update-ref" | "symbolic-ref" | "prune" | "maintenance" | "lfs"
            | "hash-object" | "ls-tree" | "check-ignore" | "var" | "difftool" | "mergetool" => {
                if matches!(sub.text.as_str(), "difftool" | "mergetool") {
                    self.opaque(format!("git {} runs a configured tool", sub.text));
                }
                if sub.text == "diff" && rest.iter().any(|a| a.text == "--ext-diff") {
                    self.opaque("git diff --ext-diff runs a configured program");
                }
            }
            other => {
                // An alias or an external `git-<name>`: unknown behaviour.
                self.push(Op::Exec {
                    program: format!("git {other}"),
                    argv: rest.iter().map(|a| a.text.clone()).collect(),
                    kind: ProgramKind::System,
                });
            }
        }
    }

    /// `git -c key=value` / `git config key value`: settings that run programs.
    fn git_config_value(&mut self, kv: &str, known: bool, env: &Env) {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        let k = k.to_ascii_lowercase();
        let runs = k.starts_with("alias.") && v.trim_start().starts_with('!')
            || matches!(
                k.as_str(),
                "core.pager"
                    | "core.editor"
                    | "core.sshcommand"
                    | "core.fsmonitor"
                    | "core.hookspath"
                    | "core.gitproxy"
                    | "core.askpass"
                    | "diff.external"
                    | "sequence.editor"
                    | "credential.helper"
                    | "gpg.program"
                    | "gpg.ssh.program"
                    | "pager.log"
                    | "pager.diff"
                    | "pager.show"
                    | "uploadpack.packobjectshook"
                    | "protocol.ext.allow"
                    | "core.alternaterefscommand"
            )
            || k.ends_with(".textconv")
            || (k.starts_with("filter.")
                && (k.ends_with(".clean") || k.ends_with(".smudge") || k.ends_with(".process")))
            || (k.starts_with("merge.") && k.ends_with(".driver"))
            || (k.starts_with("diff.") && k.ends_with(".command"))
            || (k.starts_with("pager."));
        if !runs {
            return;
        }
        if k == "core.hookspath" || k == "core.fsmonitor" {
            self.push(Op::Persistence {
                what: format!("git {k}={}", clip(v)),
            });
        }
        if !known {
            self.opaque(format!("git setting {k} is computed"));
            return;
        }
        let code = v.trim_start().trim_start_matches('!');
        match k.as_str() {
            "core.hookspath" | "protocol.ext.allow" | "credential.helper" => {
                self.opaque(format!("git setting {k} makes git run {}", clip(code)))
            }
            _ => self.nested_code(Lang::Sh, &Val::literal(code), env, &format!("git {k}")),
        }
    }

    fn kill(&mut self, name: &str, args: &[Val]) {
        let targets: Vec<&Val> = args
            .iter()
            .filter(|a| {
                !a.text.starts_with('-')
                    || a.text.parse::<i64>().is_ok()
                        && a.text != "-9"
                        && a.text != "-15"
                        && a.text.len() > 1
                        && a.text == "-1"
            })
            .collect();
        let listing = args
            .iter()
            .any(|a| a.text == "-l" || a.text == "-L" || a.text == "--list");
        if listing {
            return;
        }
        for t in targets {
            // `kill $!` and `kill %1` name the shell's own jobs.
            let own =
                name == "kill" && (t.text == "${!}" || t.text == "$!" || t.text.starts_with('%'));
            if !own {
                self.push(Op::Signal {
                    target: t.text.clone(),
                    how: name.to_string(),
                });
            }
        }
    }

    fn service(&mut self, name: &str, args: &[Val]) {
        let words: Vec<&str> = args
            .iter()
            .filter(|a| !a.text.starts_with('-'))
            .map(|a| a.text.as_str())
            .collect();
        let (verb, unit) = match name {
            "service" | "rc-service" => (
                words.get(1).copied().unwrap_or(""),
                words.first().copied().unwrap_or(""),
            ),
            _ => (
                words.first().copied().unwrap_or(""),
                words.get(1).copied().unwrap_or(""),
            ),
        };
        match verb {
            "status" | "show" | "list-units" | "list-unit-files" | "is-active" | "is-enabled"
            | "cat" | "list-timers" | "is-failed" | "" | "--version" | "list-dependencies" => {}
            "enable" | "link" | "preset" | "load" | "bootstrap" | "add-wants" | "set-property"
            | "edit" | "daemon-reload" | "revert" => self.push(Op::Persistence {
                what: format!("{name} {verb} {unit}"),
            }),
            _ => self.push(Op::Signal {
                target: unit.to_string(),
                how: format!("{name} {verb}"),
            }),
        }
    }

    fn package(&mut self, manager: &str, args: &[Val]) {
        self.push(Op::PackageInstall {
            manager: manager.to_string(),
            what: clip(&join(args).text),
        });
    }

    fn pip_like(&mut self, name: &str, args: &[Val]) {
        let sub = args
            .iter()
            .find(|a| !a.text.starts_with('-'))
            .map(|a| a.text.as_str())
            .unwrap_or("");
        let install = matches!(
            sub,
            "install"
                | "download"
                | "wheel"
                | "add"
                | "sync"
                | "lock"
                | "update"
                | "upgrade"
                | "create"
                | "run"
                | "publish"
                | "upload"
                | "inject"
                | "tool"
                | "uninstall"
                | "remove"
        );
        if install {
            // `pip install -e .` / `-r requirements.txt` still fetch from an index.
            self.package(name, args);
            self.network("package-index", None, &format!("{name} {sub}"));
        }
    }

    fn npm_like(&mut self, name: &str, args: &[Val]) {
        let sub = args
            .iter()
            .find(|a| !a.text.starts_with('-'))
            .map(|a| a.text.as_str())
            .unwrap_or("");
        match (name, sub) {
            ("npx" | "pnpx", _) | (_, "dlx" | "exec" | "x") => {
                // Runs a package, fetching it if it is not installed.
                self.package(name, args);
                self.network("package-index", None, name);
            }
            (
                _,
                "install" | "i" | "add" | "ci" | "update" | "up" | "upgrade" | "publish"
                | "unpublish" | "link" | "global" | "create" | "init" | "remove" | "uninstall"
                | "rm" | "dedupe" | "audit" | "outdated" | "login" | "adduser" | "deprecate"
                | "dist-tag" | "owner" | "token" | "team" | "access",
            ) if !(sub == "init" && args.iter().any(|a| a.text == "-y")) => {
                self.package(name, args);
                self.network("package-index", None, &format!("{name} {sub}"));
            }
            ("yarn", "") => {
                self.package(name, args);
                self.network("package-index", None, name);
            }
            _ => {}
        }
    }

    fn cargo(&mut self, args: &[Val]) {
        let sub = args
            .iter()
            .find(|a| !a.text.starts_with('-') && !a.text.starts_with('+'))
            .map(|a| a.text.as_str())
            .unwrap_or("");
        if matches!(
            sub,
            "install"
                | "publish"
                | "uninstall"
                | "owner"
                | "yank"
                | "login"
                | "logout"
                | "add"
                | "update"
                | "search"
                | "binstall"
        ) {
            self.package("cargo", args);
            self.network("crates.io", None, &format!("cargo {sub}"));
        }
    }

    fn system_package(&mut self, name: &str, args: &[Val]) {
        let sub = args
            .iter()
            .find(|a| !a.text.starts_with('-'))
            .map(|a| a.text.as_str())
            .unwrap_or("");
        let read_only = matches!(
            sub,
            "list"
                | "show"
                | "search"
                | "info"
                | "--version"
                | "version"
                | "help"
                | "policy"
                | "depends"
                | "rdepends"
                | "query"
                | "env"
                | "outdated"
                | "doctor"
                | "config"
                | "check"
                | "exec"
                | "test"
                | "build"
                | "run"
                | "fmt"
                | "format"
                | "lint"
                | "clean"
                | "restore-x"
                | "which"
                | "current"
                | "show-toolchain"
                | "-V"
                | "--help"
                | "-qa"
                | "-l"
                | "-L"
                | "-s"
        ) || args.iter().any(|a| {
            matches!(
                a.text.as_str(),
                "-l" | "-L"
                    | "-s"
                    | "-qa"
                    | "--version"
                    | "-V"
                    | "-q"
                    | "-Q"
                    | "-Qi"
                    | "-Ql"
                    | "-Ss"
                    | "-Si"
                    | "--list"
            )
        });
        let bundle_local = name == "bundle" && matches!(sub, "exec" | "show" | "list" | "check");
        let dotnet_local = name == "dotnet"
            && matches!(
                sub,
                "build"
                    | "test"
                    | "run"
                    | "format"
                    | "clean"
                    | "--info"
                    | "--version"
                    | "--list-sdks"
            );
        if read_only || bundle_local || dotnet_local {
            return;
        }
        self.package(name, args);
        self.network("package-index", None, &format!("{name} {sub}"));
        if matches!(
            name,
            "apt"
                | "apt-get"
                | "aptitude"
                | "dpkg"
                | "rpm"
                | "yum"
                | "dnf"
                | "zypper"
                | "pacman"
                | "apk"
                | "snap"
                | "flatpak"
                | "port"
        ) {
            self.push(Op::Privilege {
                how: format!("{name} changes system packages"),
            });
        }
    }

    fn docker(&mut self, name: &str, args: &[Val], env: &Env) {
        let sub = args
            .iter()
            .find(|a| !a.text.starts_with('-'))
            .map(|a| a.text.as_str())
            .unwrap_or("");
        let privileged = args.iter().any(|a| {
            a.text == "--privileged"
                || a.text.starts_with("--cap-add")
                || a.text == "--pid=host"
                || a.text == "--net=host"
                || a.text == "--network=host"
                || a.text.starts_with("--security-opt")
                || a.text.starts_with("--device")
                || a.text.contains("/var/run/docker.sock")
                || (a.text.starts_with('/')
                    && a.text.contains(":/")
                    && a.text.split(':').next() == Some("/"))
        });
        let mounts_root = args
            .windows(2)
            .any(|w| (w[0].text == "-v" || w[0].text == "--volume") && w[1].text.starts_with("/:"));
        if privileged || mounts_root {
            self.push(Op::Privilege {
                how: format!("{name} {sub} with host privileges"),
            });
        }
        match sub {
            "ps" | "images" | "version" | "info" | "inspect" | "logs" | "stats" | "top"
            | "port" | "diff" | "history" | "events" | "" => {}
            "pull" | "push" | "login" | "search" | "build" | "buildx" | "compose" | "run"
            | "create" | "save" | "load" | "import" | "export" | "tag" | "commit" | "cp"
            | "exec" | "start" | "restart" => {
                if matches!(
                    sub,
                    "pull" | "push" | "login" | "search" | "run" | "build" | "buildx" | "compose"
                ) {
                    self.network("container-registry", None, &format!("{name} {sub}"));
                }
                self.push(Op::Exec {
                    program: format!("{name} {sub}"),
                    argv: args.iter().map(|a| a.text.clone()).collect(),
                    kind: ProgramKind::System,
                });
            }
            "stop" | "kill" | "rm" | "rmi" | "prune" | "system" | "volume" | "network"
            | "container" | "image" | "swarm" | "service" | "stack" | "node" | "secret"
            | "config" => {
                self.push(Op::Signal {
                    target: format!("{name} {}", clip(&join(args).text)),
                    how: format!("{name} {sub}"),
                });
            }
            _ => {}
        }
        let _ = env;
    }
}

// ---------- helpers ----------

fn is_name(s: &str) -> bool {
    let mut ch = s.chars();
    matches!(ch.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && ch.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn lang_by_extension(p: &str) -> Option<Lang> {
    let ext = p.rsplit_once('.').map(|(_, e)| e)?;
    match ext {
        "sh" | "bash" => Some(Lang::Bash),
        "py" => Some(Lang::Python),
        "sql" => Some(Lang::Sql),
        _ => None,
    }
}

/// Join words with spaces into one value (for `eval`, `watch`, `ssh host cmd`).
pub(crate) fn join(args: &[Val]) -> Val {
    let mut v = Val::literal("");
    let mut first = true;
    let mut known = true;
    let mut text = String::new();
    for a in args {
        if !first {
            text.push(' ');
        }
        first = false;
        text.push_str(&a.text);
        known &= a.known;
        v.computed |= a.computed;
    }
    v.text = text;
    v.known = known;
    v.known_prefix = if known { v.text.len() } else { 0 };
    v
}

/// A value for a part of another value's text (an option's inline value).
fn sub_val(parent: &Val, s: &str) -> Val {
    if parent.known {
        Val::literal(s)
    } else {
        Val::unknown(s)
    }
}

/// Operands: arguments that are not options. `with_value` lists option
/// names (without dashes, comma separated) that take the next argument.
pub(crate) fn operands<'v>(args: &'v [Val], with_value: &str) -> Vec<&'v Val> {
    let mut out = Vec::new();
    let mut i = 0;
    let mut opts_done = false;
    while i < args.len() {
        let a = &args[i];
        let t = a.text.as_str();
        if opts_done || !t.starts_with('-') || t == "-" || !a.known && !t.starts_with('-') {
            out.push(a);
            i += 1;
            continue;
        }
        if t == "--" {
            opts_done = true;
            i += 1;
            continue;
        }
        let takes_value = if let Some(long) = t.strip_prefix("--") {
            !long.contains('=') && with_value.split(',').any(|w| w == long)
        } else {
            // `-n 5` but not `-n5`; the last letter of a bundle can take a value.
            let letters = &t[1..];
            letters.len() == 1 && with_value.split(',').any(|w| w == letters)
                || (letters.len() > 1
                    && letters.chars().all(|c| c.is_ascii_alphabetic())
                    && with_value
                        .split(',')
                        .any(|w| w.len() == 1 && letters.ends_with(w)))
        };
        i += if takes_value { 2 } else { 1 };
    }
    out
}

fn reader_value_opts(name: &str) -> &'static str {
    match name {
        "head" | "tail" => "n,c,lines,bytes,s,sleep-interval,pid",
        "sort" => "k,t,o,S,T,key,field-separator,output,buffer-size,temporary-directory,parallel",
        "cut" => "d,f,b,c,delimiter,fields,bytes,characters,output-delimiter",
        "uniq" => "f,s,w,skip-fields,skip-chars,check-chars",
        "paste" => "d,delimiters",
        "nl" => "b,d,f,h,i,l,n,s,v,w",
        "fold" | "fmt" => "w,width,p,prefix",
        "od" | "hexdump" | "hd" => {
            "A,j,N,t,w,s,n,e,f,address-radix,skip-bytes,read-bytes,format,width"
        }
        "column" => "s,c,t,o,N,R,separator,output-separator,table-columns",
        "join" => "t,j,o,1,2,a,v,e",
        "tr" => "",
        "diff" => "C,U,L,x,X,I,F,label,exclude,exclude-from,ignore-matching-lines,unified,context",
        "ls" | "tree" | "du" => {
            "I,L,w,T,d,B,block-size,hide,ignore,max-depth,o,P,time-style,format,sort,color,exclude,X"
        }
        "stat" => "c,format,printf",
        "shuf" => "n,o,e,i,head-count,output,random-source",
        "iconv" => "f,t,o,from-code,to-code,output",
        "strings" => "n,t,e,bytes,radix,encoding",
        "file" => "m,f,F,P,e,magic-file,files-from,separator,exclude",
        _ => "",
    }
}

/// Does a chmod mode set set-uid or set-gid?
fn mode_sets_id(m: &str) -> bool {
    if m.chars().all(|c| c.is_ascii_digit()) {
        return m.len() >= 4
            && matches!(
                m.as_bytes()[m.len() - 4],
                b'2' | b'4' | b'6' | b'3' | b'5' | b'7'
            );
    }
    m.split(',').any(|clause| {
        clause.contains(['+', '='])
            && clause
                .split(['+', '='])
                .nth(1)
                .is_some_and(|p| p.contains('s'))
    })
}

fn looks_like_path(t: &str) -> bool {
    !t.contains("://")
        && (t.starts_with('/')
            || t.starts_with("./")
            || t.starts_with("../")
            || t.starts_with('~')
            || t.contains('/')
            || t == "."
            || t == "..")
        && !t.contains(char::is_whitespace)
}

fn has_code_markers(t: &str) -> bool {
    t.contains("$(") || t.contains('`') || t.contains("<(") || t.contains(">(")
}

/// `user@host:path` or `host:path` in scp/rsync style (not a URL, not a local path).
fn remote_host(t: &str) -> Option<String> {
    if t.contains("://") || t.starts_with('/') || t.starts_with('.') || t.starts_with('-') {
        return None;
    }
    let (hostpart, _) = t.split_once(':')?;
    if hostpart.is_empty()
        || hostpart.contains('/')
        || hostpart.contains('=')
        || hostpart.contains(' ')
    {
        return None;
    }
    Some(host_of_userhost(hostpart))
}

fn host_of_userhost(t: &str) -> String {
    let h = t.rsplit_once('@').map(|(_, h)| h).unwrap_or(t);
    h.split(':').next().unwrap_or(h).to_ascii_lowercase()
}

/// Host and port of a URL with a scheme.
pub(crate) fn url_host_port(t: &str) -> Option<(String, Option<u16>)> {
    let (scheme, rest) = t.split_once("://")?;
    if scheme.is_empty()
        || !scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '-' || c == '.')
    {
        return None;
    }
    if scheme == "file" {
        return Some(("localhost".into(), None));
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let hostport = authority
        .rsplit_once('@')
        .map(|(_, h)| h)
        .unwrap_or(authority);
    let (h, p) = split_host_port(hostport);
    let default = match scheme {
        "http" | "ws" => Some(80),
        "https" | "wss" => Some(443),
        "ftp" => Some(21),
        "ssh" | "git+ssh" | "sftp" => Some(22),
        "git" => Some(9418),
        _ => None,
    };
    Some((h, p.or(default)))
}

fn url_host(t: &str) -> Option<String> {
    url_host_port(t).map(|(h, _)| h)
}

fn split_host_port(hp: &str) -> (String, Option<u16>) {
    if let Some(rest) = hp.strip_prefix('[')
        && let Some((h, tail)) = rest.split_once(']')
    {
        let port = tail.strip_prefix(':').and_then(|p| p.parse().ok());
        return (h.to_ascii_lowercase(), port);
    }
    match hp.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') => (h.to_ascii_lowercase(), p.parse().ok()),
        _ => (hp.to_ascii_lowercase(), None),
    }
}

fn kv_get(s: &str, key: &str) -> Option<String> {
    s.split_whitespace().find_map(|kv| {
        kv.strip_prefix(key)
            .and_then(|r| r.strip_prefix('='))
            .map(str::to_string)
    })
}

/// The database a connection string or name refers to.
fn conn_db(s: &str) -> String {
    if let Some(d) = kv_get(s, "dbname") {
        return d;
    }
    if s.contains("://") {
        let after = s.split_once("://").map(|(_, r)| r).unwrap_or("");
        let path = after.split_once('/').map(|(_, p)| p).unwrap_or("");
        return path.split('?').next().unwrap_or("").to_string();
    }
    s.to_string()
}

pub(crate) fn db_name_from_file(p: &str) -> String {
    let base = p.rsplit('/').next().unwrap_or(p);
    let stem = base.split('.').next().unwrap_or(base);
    stem.to_ascii_lowercase()
}

pub(crate) fn is_loopback(h: &str) -> bool {
    matches!(
        h,
        "localhost" | "127.0.0.1" | "::1" | "0.0.0.0" | "[::1]" | "ip6-localhost"
    ) || h.starts_with("127.")
}

/// `perl -pe 's/a/b/g' file`: the code is one substitution or transliteration
/// without the `e` flag. Returns the code argument.
fn perl_simple_edit(args: &[Val]) -> Option<String> {
    let mut code = None;
    for w in args.windows(2) {
        let f = w[0].text.as_str();
        if f.starts_with('-')
            && !f.starts_with("--")
            && (f.ends_with('e') || f.ends_with('E'))
            && f[1..]
                .chars()
                .all(|c| matches!(c, 'p' | 'n' | 'i' | 'e' | 'E' | 'l' | 'a' | '0'))
        {
            code = Some(w[1].clone());
        }
    }
    let code = code?;
    if !code.known {
        return None;
    }
    let t = code.text.trim().trim_end_matches(';');
    let body = t
        .strip_prefix("s")
        .or_else(|| t.strip_prefix("tr"))
        .or_else(|| t.strip_prefix('y'))?;
    let d = body.chars().next()?;
    if d.is_alphanumeric() || d.is_whitespace() {
        return None;
    }
    let parts: Vec<&str> = body[d.len_utf8()..].split(d).collect();
    if parts.len() != 3 {
        return None;
    }
    let flags = parts[2];
    if !flags
        .chars()
        .all(|c| matches!(c, 'g' | 'i' | 'm' | 's' | 'x' | 'c' | 'd' | 'r'))
    {
        return None;
    }
    if t.contains('`') || t.contains("$(") || t.contains("@{") || t.contains("${") {
        return None;
    }
    Some(code.text.clone())
}

fn awk_system_arg(prog: &str) -> Option<String> {
    let i = prog.find("system")?;
    let rest = prog[i + 6..].trim_start().strip_prefix('(')?.trim_start();
    let rest = rest.strip_prefix('"')?;
    let end = rest.find('"')?;
    let after = rest[end + 1..].trim_start();
    if !after.starts_with(')') {
        return None;
    }
    Some(rest[..end].to_string())
}

fn awk_has_command_pipe(prog: &str) -> bool {
    // `print | "cmd"`, `"cmd" | getline`, and `|&` coprocesses.
    let b = prog.as_bytes();
    let mut in_str = false;
    let mut prev_nonspace = b' ';
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'\\' {
            i += 2;
            continue;
        }
        if c == b'"' {
            in_str = !in_str;
        } else if !in_str && c == b'|' {
            if b.get(i + 1) == Some(&b'|') || prev_nonspace == b'|' {
                i += 2;
                prev_nonspace = b'|';
                continue;
            }
            let after = prog[i + 1..].trim_start();
            if after.starts_with('"')
                || after.starts_with("getline")
                || after.starts_with('&')
                || after.starts_with(|ch: char| ch.is_ascii_alphabetic())
            {
                return true;
            }
        }
        if !c.is_ascii_whitespace() {
            prev_nonspace = c;
        }
        i += 1;
    }
    false
}

/// `print > "file"` targets in an awk program.
fn awk_output_files(prog: &str) -> Vec<String> {
    let mut out = Vec::new();
    let b = prog.as_bytes();
    let mut in_str = false;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'\\' {
            i += 2;
            continue;
        }
        if c == b'"' {
            in_str = !in_str;
        } else if !in_str && c == b'>' {
            let after = prog[i + 1..].trim_start_matches('>').trim_start();
            if let Some(r) = after.strip_prefix('"')
                && let Some(end) = r.find('"')
            {
                out.push(r[..end].to_string());
            }
        }
        i += 1;
    }
    out
}

/// `getline < "file"` sources in an awk program.
fn awk_input_files(prog: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = prog;
    while let Some(i) = rest.find("getline") {
        let after = rest[i + 7..].trim_start();
        let after = after
            .trim_start_matches(|c: char| c.is_alphanumeric() || c == '_' || c == '[' || c == ']')
            .trim_start();
        if let Some(r) = after.strip_prefix('<') {
            let r = r.trim_start();
            if let Some(r) = r.strip_prefix('"') {
                if let Some(end) = r.find('"') {
                    out.push(r[..end].to_string());
                }
            } else {
                out.push("$?".to_string());
            }
        }
        rest = &rest[i + 7..];
    }
    out
}

/// `printf FORMAT ARGS...` evaluated for the simple cases (`%s`, `%b`, `\n`).
fn printf_static(args: &[Val]) -> Option<String> {
    let fmt = super::words::decode_ansi_c(&args[0].text);
    let mut rest = args[1..].iter();
    let mut out = String::new();
    let mut chars = fmt.chars().peekable();
    let mut used_any = false;
    loop {
        while let Some(c) = chars.next() {
            if c != '%' {
                out.push(c);
                continue;
            }
            match chars.next() {
                Some('%') => out.push('%'),
                Some('s') | Some('b') | Some('d') | Some('q') => {
                    used_any = true;
                    if let Some(a) = rest.next() {
                        out.push_str(&a.text);
                    }
                }
                _ => return None,
            }
        }
        if !used_any || rest.len() == 0 {
            break;
        }
        chars = fmt.chars().peekable();
    }
    if out.len() > 1 << 20 {
        return None;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setid_modes() {
        assert!(mode_sets_id("4755"));
        assert!(mode_sets_id("u+s"));
        assert!(mode_sets_id("g+s,o-w"));
        assert!(!mode_sets_id("755"));
        assert!(!mode_sets_id("+x"));
    }

    #[test]
    fn urls() {
        assert_eq!(
            url_host_port("https://Example.com/x"),
            Some(("example.com".into(), Some(443)))
        );
        assert_eq!(
            url_host_port("http://127.0.0.1:8080/"),
            Some(("127.0.0.1".into(), Some(8080)))
        );
        assert_eq!(remote_host("user@host:/x"), Some("host".into()));
        assert_eq!(remote_host("./a:b"), None);
    }
}
