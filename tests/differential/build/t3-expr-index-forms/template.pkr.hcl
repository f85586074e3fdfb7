locals {
  l = ["a", "b", "c"]
  m = { "k-1" = "v1", k2 = { inner = ["x", "y"] } }
  o = [{ n = 1 }, { n = 2 }]
}
source "file" "out" {
  target  = "out.txt"
  content = <<EOT
${local.l[0]} ${local.l["1"]} ${local.l[1.0]} ${local.l.2}
${local.m["k-1"]} ${local.m.k2.inner[1]} ${local.m["k2"]["inner"][0]}
${jsonencode(local.o[*].n)} ${jsonencode(local.o.*.n)} ${local.o[1].n}
${jsonencode([for i, x in local.l : "${i}${x}"])}
EOT
}
build {
  sources = ["source.file.out"]
}
