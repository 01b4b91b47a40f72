from . import enterprise_data, masking, onec_client, safe_xml, website_order
