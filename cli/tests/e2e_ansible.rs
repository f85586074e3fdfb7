//! End-to-end tests of the `ansible` and `ansible-local` provisioners: real Ansible
//! (`ansible-playbook`) against a real OpenSSH sshd on loopback, through Kiln's SSH proxy and
//! directly. The playbook (`tests/ansible/`) has a role with a template task and a handler, a
//! group variable, a copied file and a fetched one.

use kiln_tests::{require_ansible, run, Sshd};
use std::path::{Path, PathBuf};

const KILN: &str = env!("CARGO_BIN_EXE_kiln");

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ansible")
}

/// A template whose one provisioner is `body`.
fn template(sshd: &Sshd, kind: &str, body: &str) -> String {
    format!(
        "{}build {{\n  sources = [\"source.null.remote\"]\n  provisioner \"{kind}\" {{\n{body}  }}\n}}\n",
        sshd.null_source("")
    )
}

/// An `sftp_command` that records each start in `marker`, then serves SFTP.
fn sftp_wrapper(dir: &Path, marker: &Path) -> PathBuf {
    let server = [
        "/usr/lib/openssh/sftp-server",
        "/usr/libexec/openssh/sftp-server",
        "/usr/lib/sftp-server",
    ]
    .into_iter()
    .find(|p| Path::new(p).exists())
    .expect("sftp-server is needed: apt-get install openssh-sftp-server");
    let p = dir.join("sftp-wrapper");
    std::fs::write(
        &p,
        format!(
            "#!/bin/sh\necho started >> {}\nexec {server} -e\n",
            marker.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&p, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    p
}

/// What the playbook must have made under `dest` (and fetched into `fetched`).
fn assert_site(dest: &Path, fetched: &Path, out: &str) {
    let conf = std::fs::read_to_string(dest.join("site.conf"))
        .unwrap_or_else(|e| panic!("site.conf: {e}\n{out}"));
    assert_eq!(
        conf, "name=kiln-site\nbuild=remote type=null\ngroups=kiln\n",
        "{out}"
    );
    assert_eq!(
        std::fs::read_to_string(dest.join("handler.txt")).unwrap(),
        "reloaded kiln-site\n"
    );
    assert_eq!(
        std::fs::read_to_string(fetched.join("plain.txt")).unwrap(),
        "plain\n"
    );
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(dest.join("site.conf"))
            .unwrap()
            .permissions(),
    );
    assert_eq!(mode & 0o777, 0o640);
}

struct Case {
    dir: tempfile::TempDir,
    dest: PathBuf,
    fetched: PathBuf,
}

fn case() -> Case {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("machine/site");
    let fetched = dir.path().join("fetched");
    std::fs::create_dir_all(&fetched).unwrap();
    Case { dest, fetched, dir }
}

impl Case {
    fn vars(&self) -> String {
        format!(
            "dest={} fetch_dir={}",
            self.dest.display(),
            self.fetched.display()
        )
    }

    fn build(&self, tpl: &str) -> kiln_tests::Run {
        std::fs::write(self.dir.path().join("t.pkr.hcl"), tpl).unwrap();
        run(KILN, self.dir.path(), &["build", "t.pkr.hcl"])
    }

    /// The inventory Kiln wrote and kept (`keep_inventory_file` into the case's directory).
    fn inventory(&self) -> String {
        let inv = std::fs::read_dir(self.dir.path().join("inv"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| {
                p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with("packer-provisioner-ansible")
            })
            .expect("the kept inventory");
        std::fs::read_to_string(inv).unwrap()
    }
}

/// Through the proxy (Packer's default), with SFTP transfers: Ansible is given only the
/// proxy's address, and every file travels through the sftp-server Kiln starts on the machine.
#[test]
fn through_the_proxy_with_sftp_a_role_template_handler_and_group_vars() {
    require_ansible();
    let sshd = Sshd::start();
    let c = case();
    let marker = c.dir.path().join("sftp-started");
    let wrapper = sftp_wrapper(c.dir.path(), &marker);
    std::fs::create_dir(c.dir.path().join("inv")).unwrap();
    let body = format!(
        "    playbook_file = \"{}/playbook.yml\"\n    groups = [\"kiln\"]\n    use_sftp = true\n    sftp_command = \"{}\"\n    inventory_directory = \"inv\"\n    keep_inventory_file = true\n    extra_arguments = [\"--extra-vars\", \"{}\"]\n",
        fixtures().display(),
        wrapper.display(),
        c.vars()
    );
    let r = c.build(&template(&sshd, "ansible", &body));
    assert_eq!(r.code, 0, "{}", r.all());
    assert_site(&c.dest, &c.fetched, &r.all());
    assert!(
        r.stdout
            .contains("==> null.remote: Setting up proxy adapter for Ansible....\n"),
        "{}",
        r.stdout
    );
    // Ansible's own output streams line by line into the build's output.
    assert!(
        r.stdout.contains("    null.remote: PLAY RECAP *"),
        "{}",
        r.stdout
    );
    let inv = c.inventory();
    let line = inv.lines().next().unwrap();
    assert!(
        line.starts_with(&format!(
            "default ansible_host=127.0.0.1 ansible_user={} ansible_port=",
            sshd.user
        )),
        "{inv}"
    );
    assert!(
        !line.ends_with(&format!("ansible_port={}", sshd.port)),
        "the inventory names the machine's own port: {inv}"
    );
    assert_eq!(&inv[line.len()..], format!("\n[kiln]\n{line}\n"));
    let starts = std::fs::read_to_string(&marker).unwrap_or_default();
    assert!(
        starts.lines().count() >= 2,
        "sftp-server starts: {starts:?}"
    );
}

/// Through the proxy with classic scp (`scp -O`): Kiln itself serves `scp -t` and `scp -f`
/// with the communicator's uploads and downloads, so no sftp-server is started.
#[test]
fn through_the_proxy_with_classic_scp_served_by_kiln() {
    require_ansible();
    let sshd = Sshd::start();
    let c = case();
    let marker = c.dir.path().join("sftp-started");
    let wrapper = sftp_wrapper(c.dir.path(), &marker);
    let body = format!(
        "    playbook_file = \"{}/playbook.yml\"\n    groups = [\"kiln\"]\n    sftp_command = \"{}\"\n    extra_arguments = [\"--scp-extra-args\", \"'-O'\", \"--extra-vars\", \"{}\"]\n",
        fixtures().display(),
        wrapper.display(),
        c.vars()
    );
    let r = c.build(&template(&sshd, "ansible", &body));
    assert_eq!(r.code, 0, "{}", r.all());
    assert_site(&c.dest, &c.fetched, &r.all());
    assert!(
        !marker.exists(),
        "an sftp-server was started: the transfers did not use scp"
    );
}

/// Without the proxy: the inventory points at the machine's SSH address, with the build's key
/// and, since `user` is unset, the communicator's user.
#[test]
fn directly_with_the_builds_address_and_key() {
    require_ansible();
    let sshd = Sshd::start();
    let c = case();
    std::fs::create_dir(c.dir.path().join("inv")).unwrap();
    let body = format!(
        "    playbook_file = \"{}/playbook.yml\"\n    groups = [\"kiln\"]\n    use_proxy = false\n    inventory_directory = \"inv\"\n    keep_inventory_file = true\n    extra_arguments = [\"--extra-vars\", \"{}\"]\n",
        fixtures().display(),
        c.vars()
    );
    let r = c.build(&template(&sshd, "ansible", &body));
    assert_eq!(r.code, 0, "{}", r.all());
    assert_site(&c.dest, &c.fetched, &r.all());
    let inv = c.inventory();
    assert_eq!(
        inv,
        format!(
            "default ansible_host=127.0.0.1 ansible_user={u} ansible_port={p}\n[kiln]\ndefault ansible_host=127.0.0.1 ansible_user={u} ansible_port={p}\n",
            u = sshd.user,
            p = sshd.port
        )
    );
    assert!(
        r.stdout
            .contains("Using ssh keys from Packer communicator..."),
        "{}",
        r.stdout
    );
}

/// A failing task fails the build with Ansible's account of it; the temporary inventory and
/// key are gone afterwards.
#[test]
fn a_failing_task_fails_the_build_with_ansibles_summary() {
    require_ansible();
    let sshd = Sshd::start();
    let c = case();
    std::fs::create_dir(c.dir.path().join("inv")).unwrap();
    let body = format!(
        "    playbook_file = \"{}/failing.yml\"\n    inventory_directory = \"inv\"\n",
        fixtures().display()
    );
    let r = c.build(&template(&sshd, "ansible", &body));
    assert_eq!(r.code, 1, "{}", r.all());
    let err = r.all().replace("\r", "");
    assert!(
        err.contains("Error executing Ansible: Non-zero exit status: exit status 2\n"),
        "{err}"
    );
    assert!(
        err.contains("fatal: [default]: FAILED! => {\"changed\": false, \"msg\": \"the image is not ready\"}"),
        "{err}"
    );
    assert!(err.contains("PLAY RECAP"), "{err}");
    assert!(
        err.contains("default                    : ok=1    changed=1    unreachable=0    failed=1"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_dir(c.dir.path().join("inv")).unwrap().count(),
        0,
        "the generated inventory was left behind"
    );
}

/// ansible-local: the playbook directory, group_vars and the inventory are uploaded into a
/// staging directory and `ansible-playbook -c local` runs on the machine itself.
#[test]
fn ansible_local_runs_the_same_playbook_on_the_machine() {
    require_ansible();
    let sshd = Sshd::start();
    let c = case();
    let staging = c.dir.path().join("staging");
    let body = format!(
        "    playbook_dir = \"{f}\"\n    playbook_file = \"{f}/playbook.yml\"\n    group_vars = \"{f}/group_vars\"\n    inventory_groups = [\"kiln\"]\n    staging_directory = \"{s}\"\n    clean_staging_directory = true\n    extra_arguments = [\"--extra-vars\", \"'{v}'\"]\n",
        f = fixtures().display(),
        s = staging.display(),
        v = c.vars()
    );
    let r = c.build(&template(&sshd, "ansible-local", &body));
    assert_eq!(r.code, 0, "{}", r.all());
    assert_site(&c.dest, &c.fetched, &r.all());
    assert!(
        r.stdout.contains(
            "==> null.remote: Uploading Playbook directory to Ansible staging directory...\n"
        ),
        "{}",
        r.stdout
    );
    assert!(!staging.exists(), "clean_staging_directory left it");
}

/// A missing Ansible is found when the template is validated, with what to install.
#[test]
fn a_missing_ansible_is_a_validation_error_naming_what_to_install() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("play.yml"), "- hosts: all\n").unwrap();
    std::fs::write(
        dir.path().join("t.pkr.hcl"),
        "source \"null\" \"x\" {\n  communicator = \"none\"\n}\nbuild {\n  sources = [\"source.null.x\"]\n  provisioner \"ansible\" {\n    playbook_file = \"play.yml\"\n    command = \"/nonexistent/ansible-playbook\"\n  }\n}\n",
    )
    .unwrap();
    let r = run(KILN, dir.path(), &["validate", "t.pkr.hcl"]);
    assert_eq!(r.code, 1, "{}", r.all());
    insta::assert_snapshot!(r.stderr);
}

/// A legacy JSON template: user variables in `extra_arguments`, `{{ .Host }}` in
/// `ansible_env_vars` and an `inventory_file_template` with `{{ .HostAlias }}` and friends,
/// rendered with the build's values when the provisioner runs.
#[test]
fn legacy_json_with_an_inventory_template_and_late_values() {
    require_ansible();
    let sshd = Sshd::start();
    let c = case();
    std::fs::create_dir(c.dir.path().join("inv")).unwrap();
    let out = c.dir.path().join("seen.txt");
    let tpl = serde_json::json!({
        "variables": {"who": "from-a-user-variable"},
        "builders": [{
            "type": "null",
            "name": "legacy",
            "ssh_host": "127.0.0.1",
            "ssh_port": sshd.port,
            "ssh_username": sshd.user,
            "ssh_private_key_file": sshd.key_path(),
            "ssh_timeout": "20s"
        }],
        "provisioners": [{
            "type": "ansible",
            "playbook_file": fixtures().join("env.yml"),
            "host_alias": "box",
            "inventory_directory": "inv",
            "keep_inventory_file": true,
            "inventory_file_template": "{{ .HostAlias }} ansible_host={{ .Host }} ansible_port={{ .Port }} ansible_user={{ .User }} tag=t-{{ .ConnType }}\n",
            "ansible_env_vars": ["KILN_T=at-{{ .Host }}"],
            "extra_arguments": ["--extra-vars", format!("dest={} from_user={{{{ user `who` }}}}", out.display())]
        }]
    });
    std::fs::write(c.dir.path().join("t.json"), tpl.to_string()).unwrap();
    let r = run(KILN, c.dir.path(), &["build", "t.json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        "env=at-127.0.0.1 build=legacy/null\nvars=legacy/null user_var=from-a-user-variable\nhost=box tag=t-ssh\n"
    );
    let inv = c.inventory();
    assert!(
        inv.starts_with("box ansible_host=127.0.0.1 ansible_port="),
        "{inv}"
    );
    assert!(inv.ends_with(" tag=t-ssh\n"), "{inv}");
}

/// A sensitive variable given to Ansible reaches the playbook but never the build's output:
/// not in the command line shown, not in Ansible's own output.
#[test]
fn a_sensitive_value_passed_to_ansible_stays_out_of_the_output() {
    require_ansible();
    let sshd = Sshd::start();
    let c = case();
    let tpl = format!(
        "variable \"db_password\" {{\n  default   = \"s3cr3t-pw-value\"\n  sensitive = true\n}}\n{}",
        template(
            &sshd,
            "ansible",
            &format!(
                "    playbook_file = \"{}/secret.yml\"\n    extra_arguments = [\"--extra-vars\", \"db_password=${{var.db_password}}\"]\n",
                fixtures().display()
            )
        )
    );
    let r = c.build(&tpl);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        !r.all().contains("s3cr3t-pw-value"),
        "the secret leaked:\n{}",
        r.all()
    );
    assert!(
        r.stdout
            .contains("\"msg\": \"the password is <sensitive>\""),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("db_password=*****"), "{}", r.stdout);
}

/// `timeout` stops Ansible: the build fails with the provisioner's timeout, and neither
/// ansible-playbook nor its workers and ssh clients are left running.
#[test]
fn a_timeout_stops_ansible_and_everything_it_started() {
    require_ansible();
    let sshd = Sshd::start();
    let c = case();
    let playbook = c.dir.path().join("slow-for-this-test.yml");
    std::fs::copy(fixtures().join("slow.yml"), &playbook).unwrap();
    let body = format!(
        "    playbook_file = \"{}\"\n    timeout = \"8s\"\n",
        playbook.display()
    );
    let r = c.build(&template(&sshd, "ansible", &body));
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stdout
            .contains("Provisioner ansible timed out after 8 seconds"),
        "{}",
        r.stdout
    );
    std::thread::sleep(std::time::Duration::from_millis(500));
    let left = kiln_tests::qemu::processes_with(&playbook.display().to_string());
    assert!(left.is_empty(), "left running: {left:?}");
}

/// Two provisioners on the same `local_port`: the first proxy gives the port back when it
/// stops (the second gets the same port, not one of the nine after it), and ends its
/// connections, so Ansible's ControlPersist master cannot carry the second run to a proxy that
/// is gone; nothing stays connected after the build.
#[test]
fn a_second_proxy_on_the_same_port_is_not_shadowed_by_the_first_ones_connection() {
    require_ansible();
    let sshd = Sshd::start();
    let c = case();
    std::fs::create_dir(c.dir.path().join("inv")).unwrap();
    let port = kiln_tests::free_port();
    let body = format!(
        "    playbook_file = \"{}/secret.yml\"\n    local_port = {port}\n    timeout = \"60s\"\n    inventory_directory = \"inv\"\n    keep_inventory_file = true\n    extra_arguments = [\"--extra-vars\", \"db_password=x\"]\n",
        fixtures().display()
    );
    let tpl = format!(
        "{}build {{\n  sources = [\"source.null.remote\"]\n  provisioner \"ansible\" {{\n{body}  }}\n  provisioner \"ansible\" {{\n{body}  }}\n}}\n",
        sshd.null_source("")
    );
    let r = c.build(&tpl);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(r.stdout.matches("PLAY RECAP").count(), 2, "{}", r.stdout);
    let inventories: Vec<String> = std::fs::read_dir(c.dir.path().join("inv"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    assert_eq!(inventories.len(), 2);
    for inv in &inventories {
        assert!(inv.ends_with(&format!(" ansible_port={port}\n")), "{inv}");
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert_eq!(
        established_to(port),
        0,
        "a connection to the proxy's port is left"
    );
}

/// Established TCP connections to 127.0.0.1:`port`, from /proc/net/tcp.
fn established_to(port: u16) -> usize {
    let text = std::fs::read_to_string("/proc/net/tcp").unwrap();
    let want = format!("0100007F:{port:04X}");
    text.lines()
        .skip(1)
        .filter(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            f.len() > 3 && f[2] == want && f[3] == "01"
        })
        .count()
}

/// ansible-local with `playbook_files` inside `playbook_dir`: they travel with the directory
/// and run from their place in it (no second upload, no lookup of a local `/playbook.yml`).
#[test]
fn ansible_local_playbook_files_inside_the_playbook_dir_run_from_it() {
    require_ansible();
    let sshd = Sshd::start();
    let c = case();
    let staging = c.dir.path().join("staging");
    let body = format!(
        "    playbook_dir = \"{f}\"\n    playbook_files = [\"{f}/playbook.yml\"]\n    inventory_groups = [\"kiln\"]\n    staging_directory = \"{s}\"\n    extra_arguments = [\"--extra-vars\", \"'{v}'\"]\n",
        f = fixtures().display(),
        s = staging.display(),
        v = c.vars()
    );
    let r = c.build(&template(&sshd, "ansible-local", &body));
    assert_eq!(r.code, 0, "{}", r.all());
    assert_site(&c.dest, &c.fetched, &r.all());
    assert!(
        !r.stdout.contains("Uploading playbook file:"),
        "{}",
        r.stdout
    );
    assert!(staging.join("roles/site/tasks/main.yml").exists());
}

/// The fault matrix of an Ansible run: while `ansible-playbook` works through Kiln's proxy,
/// a Ctrl-C, a Ctrl-C pressed twice, and a SIGKILL of Kiln followed by `kiln cleanup` each leave
/// no Ansible process, no temporary file (inventory, key) and no journal.
#[test]
fn ctrl_c_once_twice_or_sigkill_during_ansible_then_cleanup_leave_nothing() {
    require_ansible();
    let sshd = Sshd::start();
    for how in ["INT", "INT twice", "KILL"] {
        let c = case();
        let d = c.dir.path();
        let tmp = d.join("tmp");
        std::fs::create_dir(&tmp).unwrap();
        let playbook = d.join(format!("slow-{}.yml", how.replace(' ', "-")));
        std::fs::copy(fixtures().join("slow.yml"), &playbook).unwrap();
        let body = format!("    playbook_file = \"{}\"\n", playbook.display());
        std::fs::write(d.join("t.pkr.hcl"), template(&sshd, "ansible", &body)).unwrap();
        let state = d.join("state");
        let kiln = |args: &[&str]| {
            let mut cmd = kiln_tests::isolated(KILN);
            cmd.args(args)
                .current_dir(d)
                .env("KILN_STATE_DIR", &state)
                .env("TMPDIR", &tmp)
                .stdin(std::process::Stdio::null());
            cmd
        };
        let mut child = kiln(&["build", "t.pkr.hcl"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let needle = playbook.display().to_string();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while kiln_tests::qemu::processes_with(&needle).is_empty() {
            assert!(
                std::time::Instant::now() < deadline,
                "{how}: ansible-playbook never started"
            );
            assert!(
                child.try_wait().unwrap().is_none(),
                "{how}: the build ended"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        // Into its task (the connection through the proxy is up).
        std::thread::sleep(std::time::Duration::from_secs(3));
        let pid = child.id().to_string();
        let send = |sig: &str| {
            let _ = std::process::Command::new("kill")
                .args([sig, &pid])
                .stderr(std::process::Stdio::null())
                .status();
        };
        match how {
            "KILL" => send("-KILL"),
            "INT" => send("-INT"),
            _ => {
                send("-INT");
                std::thread::sleep(std::time::Duration::from_millis(50));
                send("-INT");
            }
        }
        let status = child.wait().unwrap();
        match how {
            "KILL" => assert_eq!(status.code(), None, "{how}"),
            "INT" => assert_eq!(status.code(), Some(1), "{how}"),
            _ => assert!(matches!(status.code(), Some(1 | 130)), "{how}: {status:?}"),
        }
        let out = kiln(&["cleanup"]).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{how}: {text}");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while !kiln_tests::qemu::processes_with(&needle).is_empty()
            && std::time::Instant::now() < deadline
        {
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let left = kiln_tests::qemu::processes_with(&needle);
        assert!(
            left.is_empty(),
            "{how}: Ansible left running: {left:?}\n{text}"
        );
        let scratch: Vec<_> = std::fs::read_dir(&tmp)
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert!(scratch.is_empty(), "{how}: left {scratch:?}\n{text}");
        let journals = std::fs::read_dir(state.join("journal"))
            .map(|r| r.count())
            .unwrap_or(0);
        assert_eq!(journals, 0, "{how}: a journal is left\n{text}");
    }
}
