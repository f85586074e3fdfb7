source "null" "n" {
  communicator = "none"
}
build {
  sources = ["source.null.n"]
  provisioner "shell-local" {
    env    = { A = "1" }
    inline = ["echo $A > a.txt"]
  }
}
