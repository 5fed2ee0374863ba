import CLinux

#if canImport(Glibc)
    import Glibc
#endif

/// Port 53 as a non-root user in a cluster. The pod's
/// `capabilities.add: [NET_BIND_SERVICE]` puts the capability in the
/// bounding set, but containerd and CRI-O do not make it ambient, so a
/// program started as user 65532 has no capability at all. The image
/// therefore gives the binary the capability as permitted only (`setcap
/// cap_net_bind_service=+p`, not `+ep`: a binary marked effective would
/// fail to start in the containers that drop every capability, such as
/// the legacy pod's kube2sky), and the binary makes it effective here
/// before it binds. Where the capability is not permitted, nothing changes.
enum BindCapability {
    static func raise() {
        var header = __user_cap_header_struct(version: UInt32(_LINUX_CAPABILITY_VERSION_3), pid: 0)
        var sets = [__user_cap_data_struct](repeating: __user_cap_data_struct(), count: Int(_LINUX_CAPABILITY_U32S_3))
        guard capget(&header, &sets) == 0 else { return }
        let bit = UInt32(1) << UInt32(CAP_NET_BIND_SERVICE)
        guard sets[0].permitted & bit != 0, sets[0].effective & bit == 0 else { return }
        sets[0].effective |= bit
        _ = capset(&header, &sets)
    }
}
