locals {
  m = { a = "A" }
  l = ["zero", "one"]
}

source "file" "out" {
  target  = "out.txt"
  content = <<EOT
can(parseint("x", 10)) = [${can(parseint("x", 10))}]
can(parseint("10", 10)) = [${can(parseint("10", 10))}]
can(local.m.missing) = [${can(local.m.missing)}]
can(local.m.a) = [${can(local.m.a)}]
try(local.m.missing, "fallback") = [${try(local.m.missing, "fallback")}]
try(parseint("x", 10), parseint("10", 2)) = [${try(parseint("x", 10), parseint("10", 2))}]
try(jsondecode("{"), {}) = [${jsonencode(try(jsondecode("{"), {}))}]
try(local.m.missing, local.m.a) = [${try(local.m.missing, local.m.a)}]
try("first", "second") = [${try("first", "second")}]
can(regex_replace("a", "(", "b")) = [${can(regex_replace("a", "(", "b"))}]
can(element([], 0)) = [${can(element([], 0))}]
try(local.l[5], local.l[0]) = [${jsonencode(try(local.l[5], local.l[0]))}]
EOT
}

build {
  sources = ["source.file.out"]
}
