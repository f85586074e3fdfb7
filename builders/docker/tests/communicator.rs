//! The docker communicator against a real dockerd (one per test, see `kiln_tests::docker`):
//! what the provisioners do not reach through the binary's tests.

use bollard::Docker;
use kiln_builder_docker::DockerCommunicator;
use kiln_core::Communicator;
use kiln_tests::docker::Dockerd;

async fn engine(dockerd: &Dockerd) -> Docker {
    let path = dockerd.host.trim_start_matches("unix://").to_string();
    Docker::connect_with_unix(&path, 120, bollard::API_DEFAULT_VERSION)
        .unwrap()
        .negotiate_version()
        .await
        .unwrap()
}

/// A running container of the busybox base image, named `name`.
fn container(dockerd: &Dockerd, name: &str) {
    dockerd.import_busybox("kiln-base:1");
    let _id = dockerd.docker_ok(&[
        "run",
        "-d",
        "-i",
        "--network",
        "none",
        "--name",
        name,
        "--entrypoint",
        "/bin/sh",
        "kiln-base:1",
    ]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_stream_relays_raw_bytes_both_ways_and_the_exit_status() {
    let dockerd = Dockerd::start();
    container(&dockerd, "box");
    let comm = DockerCommunicator::new(engine(&dockerd).await, "box", None, true);
    let input: Vec<u8> = (0..200_000u32).map(|i| (i % 256) as u8).collect();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let status = comm
        .exec_stream(
            "cat; echo done >&2; exit 7",
            &mut input.as_slice(),
            &mut out,
            &mut err,
        )
        .await
        .unwrap();
    assert_eq!(status, kiln_core::ExitStatus::Code(7));
    assert_eq!(out, input, "stdout is the input, byte for byte");
    assert_eq!(err, b"done\n");
    // A command that never reads its input still ends when it exits.
    let mut endless = tokio::io::repeat(b'x');
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let status = comm
        .exec_stream("echo quick", &mut endless, &mut out, &mut err)
        .await
        .unwrap();
    assert_eq!(
        (status, out.as_slice()),
        (kiln_core::ExitStatus::Code(0), &b"quick\n"[..])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn directory_downloads_keep_hard_links_and_never_write_outside() {
    let dockerd = Dockerd::start();
    container(&dockerd, "box");
    let comm = DockerCommunicator::new(engine(&dockerd).await, "box", None, true);
    let mut sink = |_: kiln_core::OutputStream, _: &str| {};
    let status = comm
        .exec(
            "mkdir -p /d/sub && echo one > /d/sub/a && ln /d/sub/a /d/b && ln -s /etc /d/etc-link",
            &mut sink,
        )
        .await
        .unwrap();
    assert!(status.success());
    let dir = tempfile::tempdir().unwrap();
    comm.download_dir("/d", dir.path()).await.unwrap();
    assert_eq!(
        std::fs::read_to_string(dir.path().join("b")).unwrap(),
        "one\n"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("sub/a")).unwrap(),
        "one\n"
    );
    use std::os::unix::fs::MetadataExt;
    assert_eq!(
        std::fs::metadata(dir.path().join("b")).unwrap().ino(),
        std::fs::metadata(dir.path().join("sub/a")).unwrap().ino(),
        "a hard link stays one"
    );
    assert_eq!(
        std::fs::read_link(dir.path().join("etc-link")).unwrap(),
        std::path::PathBuf::from("/etc"),
        "a symbolic link is copied as a link, not followed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_go_to_the_images_user_and_never_replace_a_directory() {
    let dockerd = Dockerd::start();
    container(&dockerd, "box");
    let comm = DockerCommunicator::new(engine(&dockerd).await, "box", None, true)
        .with_owner(Some("kiln".into()));
    let long = format!("/tmp/{}.txt", "n".repeat(150));
    let body = b"owned\n";
    comm.upload(&long, &mut &body[..], Some(body.len() as u64), None)
        .await
        .unwrap();
    let mut said = String::new();
    let mut sink = |_: kiln_core::OutputStream, l: &str| said.push_str(l);
    let status = comm
        .exec(&format!("stat -c '%u %a' {long} && cat {long}"), &mut sink)
        .await
        .unwrap();
    assert!(status.success(), "{said}");
    assert_eq!(said, "1000 644owned");
    // A file uploaded where a directory is: refused, and the directory is still there.
    comm.exec("mkdir -p /keep && touch /keep/inside", &mut |_, _| {})
        .await
        .unwrap();
    let e = comm
        .upload("/keep", &mut &body[..], Some(body.len() as u64), None)
        .await
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("upload /keep: "), "{e}");
    let status = comm
        .exec("test -f /keep/inside", &mut |_, _| {})
        .await
        .unwrap();
    assert!(status.success(), "the directory is untouched");
}
