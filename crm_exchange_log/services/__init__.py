from . import enterprise_data, masking, onec_client, safe_xml, throttle, website_order
