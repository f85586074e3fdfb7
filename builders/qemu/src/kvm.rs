//! Whether KVM really runs guests here.
//!
//! `/dev/kvm` can exist, open, and even start a paused VM while the first guest instruction
//! fails ("KVM internal error. Suberror: 1 / emulation failure" under a paravirtual KVM), so the
//! probe boots a 512-byte boot sector that switches to 32-bit protected mode and then writes to
//! QEMU's `isa-debug-exit` port. Only a QEMU that exits with that port's status has executed
//! guest code (SeaBIOS, real mode, protected mode) under KVM.

use std::collections::HashMap;
use std::path::Path;
use std::process::Stdio;
use std::sync::Mutex;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

/// A boot sector (assembled from the listing below) that runs, under SeaBIOS at 0x7c00:
/// ```text
/// cli; xor ax,ax; mov ds,ax; lgdt [gdt_desc]      ; flat 4 GiB code and data segments
/// mov eax,cr0; or eax,1; mov cr0,eax; jmp 08:pm   ; into protected mode
/// pm: mov ax,10h; mov ds,ax; mov es,ax; mov ss,ax
///     mov al,2Ah; mov dx,0F4h; out dx,al          ; isa-debug-exit: QEMU exits (2Ah << 1) | 1
///     hlt; jmp $-1
/// ```
const BOOT_SECTOR_CODE: &[u8] = &[
    0xfa, 0x31, 0xc0, 0x8e, 0xd8, 0x66, 0x0f, 0x01, 0x16, 0x48, 0x7c, 0x0f, 0x20, 0xc0, 0x66, 0x83,
    0xc8, 0x01, 0x0f, 0x22, 0xc0, 0xea, 0x1a, 0x7c, 0x08, 0x00, 0x66, 0xb8, 0x10, 0x00, 0x8e, 0xd8,
    0x8e, 0xc0, 0x8e, 0xd0, 0xb0, 0x2a, 0x66, 0xba, 0xf4, 0x00, 0xee, 0xf4, 0xeb, 0xfd, 0x66, 0x90,
    // The GDT at 0x7c30: null, code (0x08), data (0x10); its descriptor at 0x7c48.
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0x00, 0x00, 0x00, 0x9a, 0xcf, 0x00,
    0xff, 0xff, 0x00, 0x00, 0x00, 0x92, 0xcf, 0x00, 0x17, 0x00, 0x30, 0x7c, 0x00, 0x00,
];

/// QEMU's exit status after the guest wrote 0x2a to `isa-debug-exit`.
const EXPECTED_STATUS: i32 = (0x2a << 1) | 1;

/// Under TCG the probe's guest runs to its end in ~0.15 s here (QEMU's start included), under
/// a working KVM faster; a KVM that cannot run it leaves QEMU waiting or hanging.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// A probe started ahead of time (it takes up to [`PROBE_TIMEOUT`]); dropping it stops it.
pub(crate) struct Probe(pub(crate) tokio::task::JoinHandle<Result<(), String>>);

impl Probe {
    /// Starts probing in the background.
    pub(crate) fn start(qemu: &str, cpu_model: Option<&str>) -> Probe {
        let (qemu, cpu) = (qemu.to_string(), cpu_model.map(String::from));
        Probe(tokio::spawn(
            async move { probe(&qemu, cpu.as_deref()).await },
        ))
    }

    /// Its answer.
    pub(crate) async fn answer(mut self) -> Result<(), String> {
        (&mut self.0)
            .await
            .unwrap_or_else(|e| Err(format!("the probe failed: {e}")))
    }
}

impl Drop for Probe {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The probe's answer, kept per QEMU binary and CPU model for the life of the process.
static ANSWERS: Mutex<Option<Answers>> = Mutex::new(None);

/// (QEMU binary, CPU model) → the probe's answer.
type Answers = HashMap<(String, Option<String>), Result<(), String>>;

/// The 512-byte boot sector image.
pub(crate) fn boot_sector() -> [u8; 512] {
    let mut s = [0u8; 512];
    s[..BOOT_SECTOR_CODE.len()].copy_from_slice(BOOT_SECTOR_CODE);
    s[510] = 0x55;
    s[511] = 0xaa;
    s
}

/// Runs guest code under KVM with `qemu` and `cpu_model` (the VM's own, so a CPU model KVM
/// rejects is caught too). `Ok` when it ran; otherwise why not, in a few words.
pub(crate) async fn probe(qemu: &str, cpu_model: Option<&str>) -> Result<(), String> {
    let key = (qemu.to_string(), cpu_model.map(String::from));
    if let Some(r) = ANSWERS
        .lock()
        .ok()
        .and_then(|m| m.as_ref().and_then(|m| m.get(&key).cloned()))
    {
        return r;
    }
    let scratch = tempfile::Builder::new()
        .prefix("kiln-kvm-probe")
        .tempdir()
        .map_err(|e| format!("making a scratch directory: {e}"))?;
    let r = run_probe(qemu, cpu_model, scratch.path()).await;
    if let Ok(mut m) = ANSWERS.lock() {
        m.get_or_insert_with(HashMap::new).insert(key, r.clone());
    }
    r
}

/// QEMU running the boot sector image `img` under `accel`, with the exit port.
fn probe_command(qemu: &str, accel: &str, cpu_model: Option<&str>, img: &Path) -> Command {
    let mut cmd = Command::new(qemu);
    cmd.args(["-machine", &format!("pc,accel={accel}")]).args([
        "-nodefaults",
        "-no-reboot",
        "-m",
        "16",
    ]);
    if let Some(c) = cpu_model {
        cmd.args(["-cpu", c]);
    }
    cmd.args(["-display", "none", "-monitor", "none", "-serial", "none"])
        .args([
            "-device",
            "isa-debug-exit,iobase=0xf4,iosize=0x04",
            "-drive",
        ])
        .arg(format!("file={},format=raw,if=floppy", img.display()));
    cmd
}

async fn run_probe(qemu: &str, cpu_model: Option<&str>, scratch: &Path) -> Result<(), String> {
    let img = scratch.join("kvm-probe.img");
    std::fs::write(&img, boot_sector()).map_err(|e| format!("writing {}: {e}", img.display()))?;
    let mut cmd = probe_command(qemu, "kvm", cpu_model, &img);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = cmd.spawn().map_err(|e| format!("cannot run {qemu}: {e}"))?;
    let stderr = child.stderr.take();
    let r =
        tokio::time::timeout(PROBE_TIMEOUT, async {
            // QEMU reports a KVM emulation failure on stderr and then waits with the VM stopped:
            // read stderr as it comes, so that such a line ends the probe at once.
            let mut said = String::new();
            if let Some(err) = stderr {
                let mut lines = BufReader::new(err).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    if line.starts_with("KVM internal error") {
                        return Err(line);
                    }
                    said.push_str(&line);
                    said.push('\n');
                }
            }
            // EOF: QEMU has exited.
            match child.wait().await {
                Ok(st) if st.code() == Some(EXPECTED_STATUS) => Ok(()),
                Ok(st) => Err(crate::steps::qemu_reason(&said)
                    .unwrap_or_else(|| format!("QEMU exited ({st})"))),
                Err(e) => Err(format!("waiting for {qemu}: {e}")),
            }
        })
        .await;
    let _ = std::fs::remove_file(&img);
    r.unwrap_or_else(|_| {
        Err(format!(
            "a test guest did not finish within {} s",
            PROBE_TIMEOUT.as_secs()
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boot_sector_is_bootable_and_its_gdt_descriptor_points_at_its_gdt() {
        let s = boot_sector();
        assert_eq!(&s[510..], &[0x55, 0xaa]);
        // lgdt [0x7c48]: the descriptor is at offset 0x48, limit 23, base 0x7c30.
        assert_eq!(&s[9..11], &[0x48, 0x7c]);
        assert_eq!(&s[0x48..0x4e], &[0x17, 0x00, 0x30, 0x7c, 0x00, 0x00]);
        // The far jump lands on `mov ax, 10h` at 0x7c1a.
        assert_eq!(&s[0x16..0x18], &[0x1a, 0x7c]);
        assert_eq!(&s[0x1a..0x1e], &[0x66, 0xb8, 0x10, 0x00]);
    }

    /// The probe's guest code runs to its end under TCG, so a KVM that fails it is KVM's fault.
    #[tokio::test]
    async fn the_probe_guest_exits_through_isa_debug_exit_under_tcg() {
        let dir = tempfile::tempdir().unwrap();
        let img = dir.path().join("boot.img");
        std::fs::write(&img, boot_sector()).unwrap();
        let run = probe_command("qemu-system-x86_64", "tcg", None, &img)
            .kill_on_drop(true)
            .output();
        let out = tokio::time::timeout(Duration::from_secs(60), run)
            .await
            .expect("the probe guest did not exit under TCG within 60 s")
            .expect(
                "qemu-system-x86_64 is missing: run scripts/deps (apt-get install qemu-system-x86)",
            );
        assert_eq!(out.status.code(), Some(EXPECTED_STATUS), "{out:?}");
    }
}
