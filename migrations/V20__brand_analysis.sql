-- The brand analyzer writes the kit; what the user set by hand through PUT stays theirs
-- unless an analysis is asked to replace it.
ALTER TABLE brand_profiles
    ADD COLUMN manual_fields TEXT[] NOT NULL DEFAULT '{}';

COMMENT ON COLUMN brand_profiles.manual_fields IS
    'Kit fields last set through PUT /v1/brand-profile (color_palette, typography, brand_voice, '
    'messaging_patterns, ai_generated_guidelines, logo_url); an analysis keeps them unless asked to replace them.';
