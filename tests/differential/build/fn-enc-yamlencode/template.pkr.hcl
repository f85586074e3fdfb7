source "file" "out" {
  target  = "out.txt"
  content = <<EOT
${yamlencode({ b = 1, a = ["x", "y"], c = { d = true } })}
${yamlencode("multi\nline\n")}
${yamlencode("")}
${yamlencode("yes")}
${yamlencode("123")}
${yamlencode(1.5)}
${yamlencode([])}
${yamlencode({})}
${yamlencode("a: b")}
${yamlencode(["é", "~", "null", " lead"])}
${yamlencode(1e21)}
${yamlencode(1/3)}
EOT
}

build {
  sources = ["source.file.out"]
}
