locals {
  long_words = join(" ", [for i in range(30) : "word"])
  long_key   = join(" ", [for i in range(70) : "k"])
  cloud = {
    users = [{ name = "ubuntu", groups = ["sudo", "adm"], shell = "/bin/bash", ssh_authorized_keys = [] }]
    runcmd = [
      ["sh", "-c", "echo hello"],
      "apt-get update && apt-get install -y qemu-guest-agent cloud-init openssh-server python3 curl wget",
    ]
    write_files = [{ path = "/etc/motd", content = "Welcome\nto the image\n", permissions = "0644" }]
    empty_map   = {}
    package_upgrade = true
    nothing     = null
  }
}
source "file" "out" {
  target  = "out.txt"
  content = <<EOT
${yamlencode(local.cloud)}
${yamlencode({ k = local.long_words })}
${yamlencode({ (local.long_key) = 1 })}
${yamlencode({ "a\nb" = 1 })}
${yamlencode(["a\tb\n", "a \nb", "a\r\nb", " lead\nx", "x\n\n", "\n", "end "])}
${yamlencode("é ~ \u0001 \u007f \u00a0 \ufeff \U0001F600 \u0085 \u2028")}
${yamlencode("q\"b\\ #c: d - e")}
${yamlencode(["-", "- x", "? y", ": z", "#", "---", "...", "@a", "a: b", "a #b"])}
${yamlencode("${join("", [for i in range(85) : "x"])}  y")}
${yamlencode([[], {}, [[1, 2], [3]], { a = [] }, [{ a = 1, b = { c = [true] } }]])}
${yamlencode("x\n\n")}
${yamlencode({ a = { b = { c = "deep\nblock\n" } } })}
${yamlencode([-1, 0, 2.5, 1e3, "1e3"])}
EOT
}

build {
  sources = ["source.file.out"]
}
