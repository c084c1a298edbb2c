/**
 * LINKTYPE_* values as they appear in capture files, with the names libpcap's
 * `pcap_datalink_val_to_name` gives them (the names users know from `tcpdump -L` and tshark).
 * https://www.tcpdump.org/linktypes.html
 *
 * @module
 */

/** The link types netwatch's decoder understands, by name. */
export const LINKTYPE = {
  NULL: 0,
  EN10MB: 1,
  RAW: 101,
  IEEE802_11: 105,
  LOOP: 108,
  LINUX_SLL: 113,
  IEEE802_11_RADIO: 127,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
} as const;

const NAMES: Record<number, string> = {
  0: "NULL",
  1: "EN10MB",
  3: "AX25",
  6: "IEEE802",
  7: "ARCNET_BSD",
  8: "SLIP",
  9: "PPP",
  10: "FDDI",
  50: "PPP_HDLC",
  51: "PPP_ETHER",
  100: "ATM_RFC1483",
  101: "RAW",
  104: "C_HDLC",
  105: "IEEE802_11",
  107: "FRELAY",
  108: "LOOP",
  113: "LINUX_SLL",
  114: "LTALK",
  117: "PFLOG",
  119: "PRISM_HEADER",
  122: "IP_OVER_FC",
  123: "SUNATM",
  127: "IEEE802_11_RADIO",
  129: "ARCNET_LINUX",
  138: "APPLE_IP_OVER_IEEE1394",
  139: "MTP2_WITH_PHDR",
  140: "MTP2",
  141: "MTP3",
  142: "SCCP",
  143: "DOCSIS",
  144: "LINUX_IRDA",
  147: "USER0",
  163: "IEEE802_11_RADIO_AVS",
  165: "BACNET_MS_TP",
  166: "PPP_PPPD",
  169: "GPRS_LLC",
  177: "LINUX_LAPD",
  187: "BLUETOOTH_HCI_H4",
  189: "USB_LINUX",
  192: "PPI",
  195: "IEEE802_15_4_WITHFCS",
  196: "SITA",
  197: "ERF",
  201: "BLUETOOTH_HCI_H4_WITH_PHDR",
  202: "AX25_KISS",
  204: "PPP_WITH_DIR",
  209: "IPMB_LINUX",
  215: "IEEE802_15_4_NONASK_PHY",
  220: "USB_LINUX_MMAPPED",
  224: "FC_2",
  227: "CAN_SOCKETCAN",
  228: "IPV4",
  229: "IPV6",
  230: "IEEE802_15_4_NOFCS",
  231: "DBUS",
  235: "DVB_CI",
  239: "NFLOG",
  240: "NETANALYZER",
  242: "IPOIB",
  247: "NETLINK",
  248: "BLUETOOTH_LINUX_MONITOR",
  249: "BLUETOOTH_BREDR_BB",
  250: "BLUETOOTH_LE_LL",
  251: "PROFIBUS_DL",
  252: "PKTAP",
  253: "EPON",
  254: "IPMI_HPM_2",
  256: "BLUETOOTH_LE_LL_WITH_PHDR",
  263: "INFINIBAND",
  264: "SCTP",
  265: "USBPCAP",
  266: "RTAC_SERIAL",
  267: "BLUETOOTH_LE_LL",
  269: "WATTSTOPPER_DLM",
  270: "ISO_14443",
  271: "RDS",
  272: "USB_DARWIN",
  274: "SDLC",
  276: "LINUX_SLL2",
  279: "EBHSCR",
  281: "ZWAVE_R1_R2",
  283: "ETW",
  285: "ZBOSS_NCP",
  290: "DSA_TAG_BRCM",
};

/** The libpcap name of a link type, or `LINKTYPE_<n>` for one without a name here. */
export function linkTypeName(linkType: number): string {
  return NAMES[linkType] ?? `LINKTYPE_${linkType}`;
}

/**
 * The largest packet a capture of this link type can legitimately hold. Larger captured lengths mean the
 * file is corrupt. The values follow Wireshark's (`wtap_max_snaplen_for_encap`), so netwatch stops on the
 * same record as tshark does.
 */
export function maxCaplenFor(linkType: number): number {
  switch (linkType) {
    case 220: // USB_LINUX_MMAPPED: isochronous transfers can be huge
    case 189:
    case 231: // DBUS
      return 128 * 1024 * 1024;
    case 279: // EBHSCR
      return 8 * 1024 * 1024;
    default:
      return 262144;
  }
}
