source "docker" "x" {
  image       = "debian:12-slim"
  commit      = true
  run_command = ["-d", "-i", "-t", "--name", "packer-builder", "{{.Image}}", "/bin/bash"]
}
build {
  sources = ["source.docker.x"]
}
