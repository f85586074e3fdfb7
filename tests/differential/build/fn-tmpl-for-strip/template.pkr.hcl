locals {
  items = split(",", "a,b,c")
}

source "file" "out" {
  target  = "out.txt"
  content = <<EOT
[plain]
%{ for x in local.items }
- ${x}
%{ endfor }
[right strip]
%{ for x in local.items ~}
- ${x}
%{ endfor ~}
[left strip]
%{~ for x in local.items }
- ${x}
%{~ endfor }
[both]
%{~ for x in local.items ~}
  ${upper(x)}
%{~ endfor ~}
|
[index]
%{ for i, x in local.items }${i}=${x};%{ endfor }
[range]
%{ for n in range(3) }${n * 2} %{ endfor }|
[empty]
(%{ for x in [] }${x}%{ endfor })
EOT
}

build {
  sources = ["source.file.out"]
}
