// encrypt_boot: the AMI made from the instance is temporary and an encrypted copy replaces
// it; extra launch and AMI block devices.
variable "endpoint" { type = string }

source "amazon-ebs" "diff" {
  access_key             = "kiln-moto-key"
  secret_key             = "kiln-moto-secret"
  custom_endpoint_ec2    = var.endpoint
  skip_region_validation = true
  communicator           = "none"
  region        = "us-east-1"
  source_ami_filter {
    filters = {
      name             = "amzn2-ami-hvm-2.0.*-x86_64-gp2"
      root-device-type = "ebs"
    }
    owners      = ["137112412989"]
    most_recent = true
  }
  instance_type = "m5.large"
  ami_name      = "kiln-differential-disks"
  encrypt_boot  = true
  launch_block_device_mappings {
    device_name           = "/dev/sda1"
    volume_size           = 20
    volume_type           = "standard"
    delete_on_termination = true
  }
  launch_block_device_mappings {
    device_name           = "/dev/sdb"
    volume_size           = 5
    volume_type           = "gp2"
    delete_on_termination = true
  }
  ami_block_device_mappings {
    device_name  = "/dev/sdc"
    virtual_name = "ephemeral0"
  }
  tags = { Name = "disks" }
}

build { sources = ["source.amazon-ebs.diff"] }
