locals {
  m = { b = "2", a = "1" }
  flag = false
}
source "file" "out" {
  content = "%{ if local.flag }on%{ else }off%{ endif }|%{ for i, v in ["x", "y"] }${i}${v}%{ if i == 0 },%{ endif }%{ endfor }|%{ for k in keys(local.m) }<${k}>%{ endfor }|%{ for v in local.m }${v}%{ endfor }\n"
  target  = "out.txt"
}
build {
  sources = ["source.file.out"]
}
