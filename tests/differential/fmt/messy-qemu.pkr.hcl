# A qemu source as the quickstart writes it (the disk image need not exist to validate).
source "qemu" "tiny" {
iso_url=   "base.qcow2"
iso_checksum= "none" 
disk_image =   true 
disk_size =   "1G"
      format           = "qcow2"
accelerator =   "tcg" 
headless= true
ssh_username =  "root"
ssh_password = "kilnroot"
ssh_timeout   =  "3m" 
shutdown_command =  "poweroff" 
vm_name=  "tiny.qcow2" 
qemuargs  =   [["-m", "256M"]]
boot_command   = ["<enter><wait>", "linux {{ .HTTPIP }}:{{ .HTTPPort }}<enter>"] 
}
build {
sources=   ["source.qemu.tiny"] 
provisioner "shell" {
inline =   ["echo hello"]
}
provisioner "file" {
  source      = "qemu.pkr.hcl"
destination= "/tmp/template"
}
    }
