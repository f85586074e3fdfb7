locals {
  m = merge({ b = "2", a = "1" }, { c = "3", a = "one" })
}

source "file" "out" {
  target  = "out.txt"
  content = <<EOT
%{ for k, v in local.m }${k}:${v} %{ endfor }
%{ for k in keys(local.m) ~}
<${k}>
%{~ endfor }
%{ for v in values(local.m) }${format("%-4s|", v)}%{ endfor }
%{ for k, v in zipmap(["y", "x"], [1, 2]) }${k}${v}%{ endfor }
%{ for s in setunion(["b"], ["a"]) }${s}%{ endfor }
EOT
}

build {
  sources = ["source.file.out"]
}
