locals {
  l = ["a", "b", "c"]
  t = <<EOT
start
%{ for x in local.l ~}
item ${x}
%{ endfor ~}
end
%{~ if true }
yes
%{~ endif }
${ "  padded  " ~}   after
before   ~${~ "x" ~}   y
EOT
}
source "file" "out" {
  content = "${local.t}|"
  target  = "out.txt"
}
build {
  sources = ["source.file.out"]
}
